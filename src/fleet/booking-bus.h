/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Booking1, served by tgfleet-bookingd at /org/tgfleet/Booking1 on its own socket
 * ([Booking] Socket=, a D-Bus connection per peer; not the system bus, which refuses dynamic
 * users): the booking data of the business whose bot calls. The caller never names its business: bookingd
 * derives it from the connecting process's user (peer credentials), tgfleet-bot-<tenant> (tgfleet-bot@<tenant>.service's
 * dynamic user); any other caller is AccessDenied. Ids of another business's services, staff,
 * bookings or customers find nothing. Answers are JSON texts (see migrations/0023_booking_views.sql):
 *
 *   Business() → s                                  name, zone, about, contacts, rules, services,
 *                                                     staff, hours
 *   Customer(x user, s name, s lang) → s            remembers @user: {"phone", "lang"}
 *   Days(x service, x staff, s from, s to) → s      [{"day", "free"}], dates "YYYY-MM-DD" in the
 *                                                     business's zone, at most 63 days
 *   Slots(x service, x staff, s day) → s            [{"starts", "staff", "local"}]
 *   Nearest(x service, x staff, x after, i n) → s   the same, the @n soonest from Unix time @after
 *   Book(x customer, x service, x staff, x starts) → s      {"outcome", "booking": card or null}
 *   Cancel(x booking, x by, s as, s reason) → s     the same; as: customer, owner, staff
 *   Reschedule(x booking, x customer, x staff, x starts) → s       the same
 *   Bookings(x customer) → s                        [card], the upcoming ones, soonest first
 *   Booking(x customer, x booking) → s              card, or null when it is not @customer's
 *   SetPhone(x customer, s phone) → s               {"phone", "lang"}
 *
 * A card is {"id", "starts", "local", "service", "service_id", "staff", "staff_id", "customer",
 * "price_minor", "status", "changeable"}. A staff argument of 0 is "anyone"; starts are Unix
 * seconds, "local" the business's wall-clock "YYYY-MM-DD HH:MM". The outcomes are those of
 * booking_book(), booking_cancel() and booking_reschedule(). A value the database refuses (a date
 * that is none, a phone number that is none) is InvalidArgument and changes nothing. */

#define BOOKING_BUS_NAME "org.tgfleet.Booking1"
#define BOOKING_BUS_PATH "/org/tgfleet/Booking1"
#define BOOKING_BUS_INTERFACE "org.tgfleet.Booking1"

#define BOOKING_ERROR_INVALID_ARGUMENT "org.tgfleet.Booking1.Error.InvalidArgument"
#define BOOKING_ERROR_NO_SUCH_BUSINESS "org.tgfleet.Booking1.Error.NoSuchBusiness"
#define BOOKING_ERROR_UNAVAILABLE "org.tgfleet.Booking1.Error.Unavailable"
