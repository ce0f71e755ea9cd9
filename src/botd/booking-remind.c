/* SPDX-License-Identifier: MIT */
/* Reminders: a booking.reminder event from bookingd (its durable schedule, reminders.c) tells the
 * customer of their visit, with 👍 I'll come and, while the business's deadline allows, ✖️ Cancel
 * (booking-mine.c's, asked once more). The booking is read again first: one cancelled, or moved
 * from the time the reminder was planned for, is not reminded of (its new time has reminders of
 * its own). The event's id is deduped by the commit (work.c), so each reminder is told once,
 * whatever restarts; with bookingd down it waits and comes again.
 *
 * Callback data: "ic:B" (I'll come to booking B: the business's card says so). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

/* "in 2 hours" (or days, or minutes) of @minutes ahead. Returns @buf. */
static const char *ahead_text(Lang l, int64_t minutes, char *buf, size_t size) {
        if (minutes % 1440 == 0)
                snprintf(buf, size, TN(l, "in %" PRId64 " day", "in %" PRId64 " days", minutes / 1440), minutes / 1440);
        else if (minutes % 60 == 0)
                snprintf(buf, size, TN(l, "in %" PRId64 " hour", "in %" PRId64 " hours", minutes / 60), minutes / 60);
        else
                snprintf(buf, size, TN(l, "in %" PRId64 " minute", "in %" PRId64 " minutes", minutes), minutes);
        return buf;
}

static void on_card(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *card = NULL;
        int64_t id = 0, starts = 0, planned = strtoll(strempty(json_get_string(w->root, "starts")), NULL, 10);
        int64_t offset = strtoll(strempty(json_get_string(w->root, "offset_min")), NULL, 10);
        char text[2048], line[1024], ahead[64], esc[1024], data[BOOKING_DATA_MAX];
        const char *text_of, *address;
        json_object *rows;

        if (e || !reply || sd_bus_message_read_basic(reply, 's', &text_of) < 0)
                return work_abandon(w);   /* bookingd is down: the reminder comes again */
        if (json_parse(text_of, strlen(text_of), &card) < 0 || !json_object_is_type(card, json_type_object) ||
            !streq_ptr(json_get_string(card, "status"), "confirmed") || json_get_int64(card, "starts", &starts) < 0 ||
            starts != planned)
                return work_commit(w);   /* cancelled, moved, or gone: nothing to remind of */
        (void) json_get_int64(card, "id", &id);
        snprintf(text, sizeof text, T(w->lang, "⏰ <b>A reminder: your visit is %s.</b>"),
                 ahead_text(w->lang, offset, ahead, sizeof ahead));
        text_appendf(text, sizeof text, "\n\n%s", card_text(w->lang, card, line, sizeof line));
        if (!isempty(address = json_get_string(w->scratch, "address")))
                text_appendf(text, sizeof text, "\n📍 %s", html_escape(address, esc, sizeof esc));
        rows = json_object_new_array();
        snprintf(data, sizeof data, "ic:%" PRId64, id);
        json_object *coming = button(T(w->lang, "👍 I'll come"), data);
        snprintf(data, sizeof data, "cx:%" PRId64, id);
        json_object_array_add(rows, row(coming, json_object_get_boolean(json_object_object_get(card, "changeable"))
                                                        ? button(T(w->lang, "✖️ Cancel"), data) : NULL));
        (void) work_send_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

void remind_event(Work *w) {
        int64_t booking = strtoll(strempty(json_get_string(w->root, "booking")), NULL, 10);

        w->lang = lang_from_string(json_get_string(w->root, "lang"));   /* the customer's, as bookingd has it */
        if (booking <= 0)
                return work_commit(w);
        booking_call(w, "Booking", on_card, "xx", w->user, booking);
}

static void on_coming(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        const char *outcome = json_get_string(answer, "outcome");

        if (!answer)
                return work_commit(w);
        if (streq_ptr(outcome, "noted"))
                (void) work_answer(w, T(w->lang, "👍 Thank you! See you soon."), false);   /* the reminder stays */
        else if (streq_ptr(outcome, "not_active"))
                (void) work_answer(w, T(w->lang, "This booking is no longer active."), true);
        else
                booking_stale(w);
        work_commit(w);
}

bool remind_button(Work *w, const char *data) {
        const char *arg = startswith(data, "ic:");
        char *end;
        int64_t id;

        if (!arg)
                return false;
        id = strtoll(arg, &end, 10);
        if (end == arg || *end || id <= 0) {
                booking_stale(w);
                work_commit(w);
        } else
                booking_call(w, "Coming", on_coming, "xx", w->user, id);
        return true;
}
