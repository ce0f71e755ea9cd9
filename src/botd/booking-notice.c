/* SPDX-License-Identifier: MIT */
/* Notices: who is told at once of a booking's change, each in their own language, by the bot
 * the change happened in. The people come from bookingd with the change ("notify"): for a
 * customer's booking, request, move or cancellation the owner, the admins and the staff member;
 * for the business's approval, decline or cancellation the customer, and for a visit it marks
 * completed the customer is asked for 1–5 stars (booking-mine.c's rt:). A request's notice
 * carries ✅ Approve and ✖️ Decline (booking-admin.c's buttons, checked there like any other
 * press). */

#include <inttypes.h>
#include <stdio.h>

#include "booking.h"
#include "json-util.h"
#include "keyboard.h"
#include "log.h"
#include "macro.h"

#define NAME_MAX_BYTES 256

static const char *headline(Lang l, Notice n, bool requested) {
        switch (n) {
        case NOTICE_BOOKED:
                return requested ? T(l, "📨 <b>New request</b>: approve or decline it.") : T(l, "🆕 <b>New booking</b>");
        case NOTICE_MOVED:
                return T(l, "🔁 <b>A customer moved their booking</b>");
        case NOTICE_CANCELLED:
                return T(l, "✖️ <b>A customer cancelled their booking</b>");
        case NOTICE_APPROVED:
                return T(l, "✅ <b>Your booking is confirmed.</b>");
        case NOTICE_DECLINED:
                return T(l, "✖️ <b>Sorry, the business could not take your request.</b>");
        case NOTICE_CANCELLED_BY_BUSINESS:
                return T(l, "✖️ <b>The business has cancelled your booking.</b>");
        case NOTICE_RATE:
                return T(l, "⭐ <b>Thank you for your visit!</b> How was it? Rate it from 1 to 5.");
        }
        return "";
}

void booking_notify(Work *w, json_object *answer, Notice n) {
        json_object *list = json_object_object_get(answer, "notify"), *card = json_object_object_get(answer, "booking");
        bool requested = streq_ptr(json_get_string(card, "status"), "requested");
        bool to_team = n == NOTICE_BOOKED || n == NOTICE_MOVED || n == NOTICE_CANCELLED;
        char text[3072], line[1024], name[NAME_MAX_BYTES * 6], reason[1024], data[BOOKING_DATA_MAX];
        int64_t booking = 0;

        (void) json_get_int64(card, "id", &booking);
        html_escape(booking_user_name(w), name, sizeof name);
        html_escape(strempty(json_get_string(card, "reason")), reason, sizeof reason);
        for (size_t i = 0; card && json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
                json_object *to = json_object_array_get_idx(list, i), *markup;
                Lang l = lang_from_string(json_get_string(to, "lang"));
                int64_t chat = 0;

                if (json_get_int64(to, "id", &chat) < 0 || chat <= 0)
                        continue;
                snprintf(text, sizeof text, "%s\n\n%s", headline(l, n, requested), card_text(l, card, line, sizeof line));
                if (to_team)
                        text_appendf(text, sizeof text, "\n🙋 <a href=\"tg://user?id=%" PRId64 "\">%s</a>", w->user,
                                     isempty(name) ? T(l, "the customer") : name);
                else if (!isempty(reason))
                        text_appendf(text, sizeof text, "\n%s %s", T(l, "Reason:"), reason);
                if (n == NOTICE_BOOKED && requested) {
                        snprintf(data, sizeof data, "ap:%" PRId64, booking);
                        json_object *approve = button(T(l, "✅ Approve"), data);
                        snprintf(data, sizeof data, "dc:%" PRId64, booking);
                        markup = inline_keyboard(row(row(approve, button(T(l, "✖️ Decline"), data)), NULL));
                } else if (to_team) {
                        snprintf(data, sizeof data, "bc:%" PRId64, booking);
                        markup = inline_keyboard(row(row(button(T(l, "🗂 Open"), data), NULL), NULL));
                } else if (n == NOTICE_RATE) {
                        json_object *stars = json_object_new_array();
                        for (int k = 1; k <= 5; k++) {
                                char label[16];
                                snprintf(label, sizeof label, "%d ⭐", k);
                                snprintf(data, sizeof data, "rt:%" PRId64 ":%d", booking, k);
                                json_object_array_add(stars, button(label, data));
                        }
                        markup = inline_keyboard(row(stars, NULL));
                } else
                        markup = inline_keyboard(row(row(n == NOTICE_APPROVED ? button(T(l, "🗂 My bookings"), "my")
                                                                              : button(T(l, "📅 Book again"), "bk"),
                                                         NULL), NULL));
                if (work_send_to(w, chat, text, markup) < 0)
                        log_warning("Too many notices for booking %" PRId64 "; %" PRId64 " is not told.", booking, chat);
        }
}
