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
 *   Customer(x user, s name, s lang) → s            remembers @user: {"phone", "lang", "role"}
 *   Days(x service, x staff, s from, s to) → s      [{"day", "free"}], dates "YYYY-MM-DD" in the
 *                                                     business's zone, at most 63 days
 *   Slots(x service, x staff, s day) → s            [{"starts", "staff", "local"}]
 *   Nearest(x service, x staff, x after, i n) → s   the same, the @n soonest from Unix time @after
 *   Book(x customer, x service, x staff, x starts) → s      {"outcome", "booking": card or null}
 *   Cancel(x booking, x by, s as, s reason) → s     the same; as: customer, or @by's role
 *   Reschedule(x booking, x customer, x staff, x starts) → s       the same
 *   Bookings(x customer) → s                        [card], the upcoming ones, soonest first
 *   Booking(x customer, x booking) → s              card, or null when it is not @customer's
 *   SetPhone(x customer, s phone) → s               {"phone", "lang"}
 *   Rate(x customer, x booking, i stars) → s        {"outcome"}: a completed visit, 1–5, once
 *   Coming(x customer, x booking) → s               {"outcome"}: "I'll come" under a reminder
 *
 * The business's side: @user is the Telegram user acting, whose role bookingd finds (the owner,
 * an admin the owner added, or a staff member linked to their Telegram id, who sees only their
 * own schedule); for anyone else, and for a booking outside the role, the answer is null.
 *
 *   Day(x user, s day) → s                          {"role", "day", "today", "staff": [{"id",
 *                                                     "name", "bookings": [admin card]}]}
 *   Requests(x user) → s                            [admin card], waiting for approval
 *   Manage(x user, x booking) → s                   admin card
 *   Act(x user, x booking, s action, s reason) → s  {"outcome", "booking", "notify"}; action:
 *                                                     approve, decline, cancel, complete, no_show
 *   Stats(x user, s from, s to) → s                 the period's figures (booking_stats_json());
 *                                                     the owner and admins only
 *   Team(x user) → s                                {"role", "owner", "admins": [{"id",
 *                                                     "name"}], "staff": [{"id", "name",
 *                                                     "telegram_id"}]}; the owner and admins only
 *   SetAdmin(x user, x member, i add) → s           {"outcome"}; the owner only
 *   LinkStaff(x user, x staff, x telegram) → s      {"outcome"}; telegram 0 unlinks
 *
 * A card is {"id", "starts", "local", "service", "service_id", "staff", "staff_id", "customer",
 * "price_minor", "status", "changeable"}; an admin card adds "customer_name", "customer_phone",
 * "reason", "ends" ("HH:MM"), "day", "started", "rating" and "coming". Book, Cancel and
 * Reschedule answer with "notify" too, and Act does: whom to tell ([{"id", "lang"}]: the owner,
 * the admins and the staff member of a customer's change; the customer of the business's). A
 * staff argument of 0 is "anyone"; starts are Unix seconds, "local" the business's wall-clock
 * "YYYY-MM-DD HH:MM". The outcomes are those of booking_book(), booking_cancel(),
 * booking_reschedule(), booking_act(), booking_admin_set(), booking_staff_link(), booking_rate()
 * (migrations/0024_booking_admin.sql) and booking_coming() (0025_booking_reminders.sql). A value
 * the database refuses (a date that is none, a phone number that is none) is InvalidArgument and
 * changes nothing.
 *
 * Reminders are no method: bookingd publishes each one due as a booking.reminder event to the
 * bot's "events:<bot>" stream (fields event, type, user, booking, starts, offset_min, lang). */

#define BOOKING_BUS_NAME "org.tgfleet.Booking1"
#define BOOKING_BUS_PATH "/org/tgfleet/Booking1"
#define BOOKING_BUS_INTERFACE "org.tgfleet.Booking1"

#define BOOKING_ERROR_INVALID_ARGUMENT "org.tgfleet.Booking1.Error.InvalidArgument"
#define BOOKING_ERROR_NO_SUCH_BUSINESS "org.tgfleet.Booking1.Error.NoSuchBusiness"
#define BOOKING_ERROR_UNAVAILABLE "org.tgfleet.Booking1.Error.Unavailable"
