/* SPDX-License-Identifier: MIT */
/* The business's figures of a month, for its owner and admins (bookingd refuses anyone else):
 * its bookings and what became of them, the revenue of the visits that took place by service and
 * by staff member, and the average rating.
 *
 * Callback data: "sx:YYYY-MM" (that month, a year either side of today's). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "booking.h"
#include "calendar.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

#define NAME_MAX_BYTES 256
#define MONTHS_AROUND 12

static int64_t field(json_object *o, const char *name) {
        int64_t v = 0;

        (void) json_get_int64(o, name, &v);
        return v;
}

static void list_text(const Work *w, json_object *list, const char *title, char *text, size_t size) {
        char esc[NAME_MAX_BYTES * 6], money[64];
        const char *currency = strempty(json_get_string(w->scratch, "currency"));

        if (json_object_array_length(list) == 0)
                return;
        text_appendf(text, size, "\n\n<b>%s</b>", title);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *o = json_object_array_get_idx(list, i);
                int64_t visits = field(o, "visits");
                text_appendf(text, size, "\n• %s: ", html_escape(strempty(json_get_string(o, "name")), esc, sizeof esc));
                text_appendf(text, size, TN(w->lang, "%" PRId64 " visit", "%" PRId64 " visits", visits), visits);
                text_appendf(text, size, ", %s", format_money(w->lang, field(o, "revenue_minor"), currency, money, sizeof money));
        }
}

static void on_stats(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *st = booking_answer_for(
                w, reply, e, T(w->lang, "Only the business's owner and admins see its figures."));
        char text[4096], title[64], money[64], prev[BOOKING_DATA_MAX], next[BOOKING_DATA_MAX];
        char rating[16];
        Date first, today;
        int64_t m, m0;

        if (!st)
                return work_commit(w);
        if (date_parse(json_get_string(st, "from"), &first) < 0 || date_parse(json_get_string(w->scratch, "today"), &today) < 0)
                return booking_unavailable(w), work_commit(w);
        snprintf(text, sizeof text, "📊 <b>%s</b>", month_text(w->lang, first, title, sizeof title));
        text_appendf(text, sizeof text, T(w->lang, "\nBookings: %" PRId64), field(st, "bookings"));
        text_appendf(text, sizeof text, T(w->lang, "\n✔️ Came: %" PRId64 " · 🚫 Did not come: %" PRId64),
                     field(st, "completed"), field(st, "no_show"));
        text_appendf(text, sizeof text, T(w->lang, "\n✖️ Cancelled by customers: %" PRId64 " · by the business: %" PRId64),
                     field(st, "cancelled_customer"), field(st, "cancelled_business"));
        text_appendf(text, sizeof text, T(w->lang, "\n⏳ Still to come: %" PRId64), field(st, "upcoming"));
        text_appendf(text, sizeof text, T(w->lang, "\n💰 Revenue: %s"),
                     format_money(w->lang, field(st, "revenue_minor"), strempty(json_get_string(w->scratch, "currency")),
                                  money, sizeof money));
        if (field(st, "ratings") > 0) {
                char *comma;
                snprintf(rating, sizeof rating, "%.1f", json_object_get_double(json_object_object_get(st, "rating")));
                if (w->lang == LANG_RU && (comma = strchr(rating, '.')))
                        *comma = ',';
                text_appendf(text, sizeof text, T(w->lang, "\n⭐ Rating: %s of 5 (%" PRId64 ")"), rating, field(st, "ratings"));
        }
        list_text(w, json_object_object_get(st, "by_service"), T(w->lang, "By service"), text, sizeof text);
        list_text(w, json_object_object_get(st, "by_staff"), T(w->lang, "By staff member"), text, sizeof text);

        m = first.year * 12 + first.month - 1;
        m0 = today.year * 12 + today.month - 1;
        snprintf(prev, sizeof prev, "sx:%04d-%02d", (int) ((m - 1) / 12), (int) ((m - 1) % 12 + 1));
        snprintf(next, sizeof next, "sx:%04d-%02d", (int) ((m + 1) / 12), (int) ((m + 1) % 12 + 1));
        json_object *rows = json_object_new_array(), *nav = json_object_new_array();
        if (m > m0 - MONTHS_AROUND)
                json_object_array_add(nav, button("◀", prev));
        if (m < m0 + MONTHS_AROUND)
                json_object_array_add(nav, button("▶", next));
        if (json_object_array_length(nav) > 0)
                json_object_array_add(rows, nav);
        else
                json_object_put(nav);
        json_object_array_add(rows, row(button(T(w->lang, "◀ The schedule"), "ad"), NULL));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

bool stats_button(Work *w, const char *data) {
        const char *arg = startswith(data, "sx:");
        char from[16], to[16];
        Date first, today, last;
        int64_t m, m0;

        if (!arg)
                return false;
        snprintf(from, sizeof from, "%.7s-01", arg);
        if (strlen(arg) != 7 || date_parse(from, &first) < 0 || date_parse(json_get_string(w->scratch, "today"), &today) < 0) {
                booking_stale(w);
                work_commit(w);
                return true;
        }
        m = first.year * 12 + first.month - 1;
        m0 = today.year * 12 + today.month - 1;
        if (m < m0 - MONTHS_AROUND || m > m0 + MONTHS_AROUND) {
                booking_stale(w);
                work_commit(w);
                return true;
        }
        last = date_from_days(date_to_days((Date) { first.year + first.month / 12, first.month % 12 + 1, 1 }) - 1);
        date_format(last, to, sizeof to);
        booking_call(w, "Stats", on_stats, "xss", w->user, from, to);
        return true;
}
