/* SPDX-License-Identifier: MIT */
#pragma once

/* The pieces of a business's bot (the tenant role): tenant-bot.c (the menu, About, dispatch),
 * booking-book.c (Book, and the new time of a move), booking-mine.c (My bookings: cancel,
 * move), booking-remind.c (reminders), booking-notice.c (who is told of a change), and the
 * business's side: booking-admin.c
 * (the schedule and what is done with a booking), booking-team.c (admins, staff accounts) and
 * booking-stats.c (a month's figures).
 * Every handler runs with the business (Booking1.Business(), an object) in w->scratch,
 * and ends with work_commit(). */

#include "booking-bus.h"
#include "botd.h"

#define booking_call(w, method, fn, ...) \
        work_bus_call(w, BOOKING_BUS_NAME, BOOKING_BUS_PATH, method, fn, __VA_ARGS__)

/* Callback data are at most 64 bytes (Telegram's limit). */
#define BOOKING_DATA_MAX 65

/* The JSON answer of a Booking1 call (a new reference), or NULL after telling the user it failed
 * (or, for an answer of null, that the button is stale). */
json_object *booking_answer(Work *w, sd_bus_message *reply, const sd_bus_error *e);

/* The same, saying @when_null (not "stale") for an answer of null. */
json_object *booking_answer_for(Work *w, sd_bus_message *reply, const sd_bus_error *e, const char *when_null);

/* Tells the user that bookings are unavailable now, or that the pressed button is stale: as a
 * pop-up for a press, else as a message. */
void booking_unavailable(Work *w);
void booking_stale(Work *w);

/* Shows @text with @keyboard (consumed): in place of the pressed message, or as a new one. */
void booking_show(Work *w, const char *text, json_object *keyboard);

/* The element of array @list whose "id" is @id, or NULL. Borrowed. */
json_object *booking_find(json_object *list, int64_t id);

/* The business's service @id / staff member @id (active ones), or NULL. Borrowed. */
json_object *business_service(const Work *w, int64_t id);
json_object *business_staff(const Work *w, int64_t id);

/* "Cut — 60 min, 1 500,00 ₽" of @service into @buf. Returns @buf. */
char *service_text(const Work *w, json_object *service, char *buf, size_t size);

/* A booking's card (booking-bus.h) as lines in @l: the service, when and with whom, and
 * "waiting to be confirmed" for a request. Returns @buf. */
char *card_text(Lang l, json_object *card, char *buf, size_t size);

/* The persistent menu: 📅 Book, 🗂 My bookings, ℹ️ About, and 🗓 Schedule for the business's
 * team (the conversation state's "team", set at /start from the user's role). */
json_object *tenant_menu(const Work *w);

/* What a notice tells (booking-notice.c): to the team, of a customer's change; to the customer,
 * of the business's. */
typedef enum Notice {
        NOTICE_BOOKED,                  /* booked, or a request (with ✅ Approve, ✖️ Decline) */
        NOTICE_MOVED,
        NOTICE_CANCELLED,
        NOTICE_APPROVED,
        NOTICE_DECLINED,
        NOTICE_CANCELLED_BY_BUSINESS,
        NOTICE_RATE,                    /* a visit marked completed: 1–5 stars asked for */
} Notice;

/* Tells each one of @answer's "notify" ([{"id", "lang"}]) of @n about its "booking", in their
 * language, in the same commit as the work's own answer. */
void booking_notify(Work *w, json_object *answer, Notice n);

/* The user's first name as Telegram gives it now ("" when none). */
const char *booking_user_name(const Work *w);

/* Book: the services to choose from. */
void book_start(Work *w);

/* Moving booking @move (one of the user's, changeable): its staff and time chosen again. */
void book_move(Work *w, json_object *card);

/* The user's phone number, asked for before booking (await "phone"): the contact they shared or
 * the number they typed. */
void book_got_phone(Work *w);

/* A press of one of booking-book.c's buttons (sv: st: cl: dy: tm: ok:); false when @data is not. */
bool book_button(Work *w, const char *data);

/* My bookings. */
void mine_show(Work *w);

/* A press of one of booking-mine.c's buttons (cx: cy: rs: rt:); false when @data is not. */
bool mine_button(Work *w, const char *data);

/* A booking.reminder event (bookingd's): the customer reminded of their visit, when it is still
 * confirmed for that time (booking-remind.c). */
void remind_event(Work *w);

/* A press of booking-remind.c's button (ic:); false when @data is not. */
bool remind_button(Work *w, const char *data);

/* The schedule of the business's today, for its team (🗓 Schedule, /admin); others are told it
 * is the team's. */
void admin_home(Work *w);

/* A press of one of booking-admin.c's buttons (ad sd: sm: bc: ap: dc: bx: by: bd: bn: rq) or
 * booking-team.c's (tm ta tr: tl: tu:); false when @data is none of them. */
bool admin_button(Work *w, const char *data);
bool team_button(Work *w, const char *data);

/* A press of booking-stats.c's button (sx:, a month's figures); false when @data is not. */
bool stats_button(Work *w, const char *data);

/* Whether the conversation awaits a text of the team's (a reason, a Telegram id) that @w's
 * message may be; and handling it. */
bool admin_awaits(const Work *w);
void admin_got_text(Work *w);
bool team_awaits(const Work *w);
void team_got_text(Work *w);
