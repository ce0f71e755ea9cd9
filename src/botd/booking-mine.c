/* SPDX-License-Identifier: MIT */
/* My bookings: the user's upcoming bookings, each with ✖️ Cancel (asked once more) and 🔁 Move
 * while the business's deadline allows; after it, a line saying changes are closed.
 *
 * Callback data: "cx:B" (cancel booking B? asked), "cy:B" (cancelled), "rs:B" (move it: the
 * staff and time chosen again, booking-book.c), "rt:B:N" (N stars for a visit the business
 * marked completed, once). bookingd answers only for the user's own booking:
 * another's id, a past or cancelled one, changes nothing. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

/* The deadline in words: "12 h" before the visit (rounded down; at least "1 h" when not 0). */
static const char *deadline_text(const Work *w, char *buf, size_t size) {
        int64_t minutes = 0;

        (void) json_get_int64(w->scratch, "change_deadline_min", &minutes);
        if (minutes % 60 == 0)
                snprintf(buf, size, TN(w->lang, "%" PRId64 " hour", "%" PRId64 " hours", minutes / 60), minutes / 60);
        else
                snprintf(buf, size, TN(w->lang, "%" PRId64 " minute", "%" PRId64 " minutes", minutes), minutes);
        return buf;
}

static void on_bookings(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *list = booking_answer(w, reply, e);
        char text[4096], card[1024], label[64], data[BOOKING_DATA_MAX], deadline[64];
        json_object *rows;
        size_t n;

        if (!list)
                return work_commit(w);
        n = json_object_array_length(list);
        if (n == 0) {
                booking_show(w, T(w->lang, "You have no upcoming bookings."),
                             inline_keyboard(row(row(button(T(w->lang, "📅 Book"), "bk"), NULL), NULL)));
                return work_commit(w);
        }
        rows = json_object_new_array();
        snprintf(text, sizeof text, "<b>%s</b>", T(w->lang, "Your bookings"));
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(list, i);
                int64_t id = 0;
                (void) json_get_int64(c, "id", &id);
                text_appendf(text, sizeof text, "\n\n%zu. %s", i + 1, card_text(w->lang, c, card, sizeof card));
                if (!json_object_get_boolean(json_object_object_get(c, "changeable"))) {
                        text_appendf(text, sizeof text, T(w->lang, "\n🔒 Changes close %s before the visit; please "
                                                                   "contact the business."),
                                     deadline_text(w, deadline, sizeof deadline));
                        continue;
                }
                snprintf(label, sizeof label, T(w->lang, "✖️ Cancel %zu"), i + 1);
                snprintf(data, sizeof data, "cx:%" PRId64, id);
                json_object *cancel = button(label, data);
                snprintf(label, sizeof label, T(w->lang, "🔁 Move %zu"), i + 1);
                snprintf(data, sizeof data, "rs:%" PRId64, id);
                json_object_array_add(rows, row(cancel, button(label, data)));
        }
        json_object_array_add(rows, row(button(T(w->lang, "📅 Book another"), "bk"), NULL));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

void mine_show(Work *w) {
        booking_call(w, "Bookings", on_bookings, "x", w->user);
}

/* The card of the booking a press is about: cx:B asks, rs:B starts the move. */
static void on_card(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *c = booking_answer(w, reply, e);
        char text[2048], card[1024], data[BOOKING_DATA_MAX], deadline[64];
        int64_t id = 0;
        json_object *rows;

        if (!c)
                return work_commit(w);
        if (!json_object_get_boolean(json_object_object_get(c, "changeable"))) {
                snprintf(text, sizeof text, T(w->lang, "This booking can no longer be changed here: changes close %s "
                                                       "before the visit. Please contact the business."),
                         deadline_text(w, deadline, sizeof deadline));
                (void) work_answer(w, text, true);
                return work_commit(w);
        }
        if (startswith(w->callback_data, "rs:"))
                return book_move(w, c);
        (void) json_get_int64(c, "id", &id);
        snprintf(text, sizeof text, "<b>%s</b>\n\n%s", T(w->lang, "Cancel this booking?"), card_text(w->lang, c, card, sizeof card));
        snprintf(data, sizeof data, "cy:%" PRId64, id);
        rows = json_object_new_array();
        json_object_array_add(rows, row(button(T(w->lang, "✖️ Yes, cancel it"), data), NULL));
        json_object_array_add(rows, row(button(T(w->lang, "◀ Keep it"), "my"), NULL));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void on_cancelled(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        const char *outcome = json_get_string(answer, "outcome");
        char text[2048], card[1024], deadline[64];

        if (!answer)
                return work_commit(w);
        if (streq_ptr(outcome, "cancelled")) {
                snprintf(text, sizeof text, "%s\n\n%s", T(w->lang, "✅ <b>Your booking is cancelled.</b>"),
                         card_text(w->lang, json_object_object_get(answer, "booking"), card, sizeof card));
                booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, "📅 Book again"), "bk"),
                                                              button(T(w->lang, "🗂 My bookings"), "my")), NULL)));
                booking_notify(w, answer, NOTICE_CANCELLED);
        } else if (streq_ptr(outcome, "too_late")) {
                snprintf(text, sizeof text, T(w->lang, "This booking can no longer be changed here: changes close %s "
                                                       "before the visit. Please contact the business."),
                         deadline_text(w, deadline, sizeof deadline));
                booking_show(w, text, NULL);
        } else if (streq_ptr(outcome, "not_active"))
                booking_show(w, T(w->lang, "This booking is no longer active."),
                             inline_keyboard(row(row(button(T(w->lang, "🗂 My bookings"), "my"), NULL), NULL)));
        else
                booking_stale(w);
        work_commit(w);
}

/* rt:B:N, a visit's rating (booking-notice.c asks for it). */
static void on_rated(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        const char *outcome = json_get_string(answer, "outcome");
        char text[256], stars[32] = "";
        const char *given = strrchr(strempty(w->callback_data), ':');
        int n = given ? atoi(given + 1) : 0;   /* checked by rate_button() */

        if (!answer)
                return work_commit(w);
        if (streq_ptr(outcome, "rated")) {
                for (int k = 0; k < n && k < 5; k++)
                        strcat(stars, "⭐");
                snprintf(text, sizeof text, T(w->lang, "Thank you for your rating: %s"), stars);
                booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, "📅 Book again"), "bk"), NULL), NULL)));
        } else if (streq_ptr(outcome, "already"))
                (void) work_answer(w, T(w->lang, "You have rated this visit already. Thank you!"), true);
        else
                booking_stale(w);
        work_commit(w);
}

static bool rate_button(Work *w, const char *data) {
        int64_t id;
        int stars, used = 0;

        if (!startswith(data, "rt:"))
                return false;
        if (sscanf(data, "rt:%" SCNd64 ":%d%n", &id, &stars, &used) != 2 || data[used] || id <= 0 || stars < 1 || stars > 5) {
                booking_stale(w);
                work_commit(w);
        } else
                booking_call(w, "Rate", on_rated, "xxi", w->user, id, (int32_t) stars);
        return true;
}

bool mine_button(Work *w, const char *data) {
        const char *arg;
        char *end;
        int64_t id;

        if (rate_button(w, data))
                return true;

        if (!(arg = startswith(data, "cx:")) && !(arg = startswith(data, "cy:")) && !(arg = startswith(data, "rs:")))
                return false;
        id = strtoll(arg, &end, 10);
        if (end == arg || *end || id <= 0) {
                booking_stale(w);
                work_commit(w);
        } else if (startswith(data, "cy:"))
                booking_call(w, "Cancel", on_cancelled, "xxss", id, w->user, "customer", "");
        else
                booking_call(w, "Booking", on_card, "xx", w->user, id);
        return true;
}
