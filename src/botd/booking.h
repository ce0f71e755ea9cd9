/* SPDX-License-Identifier: MIT */
#pragma once

/* The pieces of a business's bot (the tenant role): tenant-bot.c (the menu, About, dispatch),
 * booking-book.c (Book, and the new time of a move) and booking-mine.c (My bookings: cancel,
 * move). Every handler runs with the business (Booking1.Business(), an object) in w->scratch,
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

/* A booking's card (booking-bus.h) as lines: the service, when and with whom, and its status
 * when that is not "confirmed". Returns @buf. */
char *card_text(const Work *w, json_object *card, char *buf, size_t size);

/* The persistent menu: 📅 Book, 🗂 My bookings, ℹ️ About. */
json_object *tenant_menu(Lang l);

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

/* A press of one of booking-mine.c's buttons (cx: cy: rs:); false when @data is not. */
bool mine_button(Work *w, const char *data);
