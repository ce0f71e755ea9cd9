/* SPDX-License-Identifier: MIT */
#include "calendar.h"
#include "test-util.h"

static const char *cell(json_object *k, size_t row, size_t col, const char *key) {
        json_object *rows = json_object_object_get(k, "inline_keyboard");
        json_object *r = json_object_array_get_idx(rows, row);
        return json_object_get_string(json_object_object_get(json_object_array_get_idx(r, col), key));
}

int main(void) {
        char buf[128];
        Date d;

        assert(date_parse("2026-12-09", &d) == 0 && d.year == 2026 && d.month == 12 && d.day == 9);
        assert(date_weekday(d) == 3);
        assert(date_parse("2028-02-29", &d) == 0);
        assert(date_parse("2027-02-29", &d) == -EINVAL);
        assert(date_parse("2026-04-31", &d) == -EINVAL);
        assert(date_parse("2026-1-09", &d) == -EINVAL);
        assert(date_parse("2026-12-09x", &d) == -EINVAL);
        assert(date_parse("+026-12-09", &d) == -EINVAL);
        assert(date_parse(NULL, &d) == -EINVAL);
        assert(date_parse("2026-12-31", &d) == 0);
        d = date_from_days(date_to_days(d) + 1);
        date_format(d, buf, sizeof buf);
        assert(streq(buf, "2027-01-01"));
        assert(date_weekday(d) == 5);

        assert(streq(date_text(LANG_EN, (Date) { 2026, 12, 9 }, buf, sizeof buf), "Wed, Dec 9"));
        assert(streq(date_text(LANG_RU, (Date) { 2026, 12, 9 }, buf, sizeof buf), "ср, 9 декабря"));
        assert(streq(month_text(LANG_RU, (Date) { 2026, 5, 1 }, buf, sizeof buf), "Май 2026"));
        assert(streq(local_text(LANG_EN, "2026-03-29 10:00", buf, sizeof buf), "Sun, Mar 29, 10:00"));
        assert(streq(local_text(LANG_RU, "2026-03-29 10:00", buf, sizeof buf), "вс, 29 марта, 10:00"));
        assert(streq(local_text(LANG_EN, "soon", buf, sizeof buf), "soon"));

        /* February 2027 starts on a Monday and has four whole weeks; the 3rd and the 10th are free, the
         * 1st to the 20th can be booked. */
        json_object *k = calendar_keyboard(LANG_EN, (Date) { 2027, 2, 14 }, (1u << 3) | (1u << 10), 0x1FFFFEu,
                                           "dy:1:0:0:", NULL, "cl:1:0:0:2027-03", NULL);
        json_object *rows = json_object_object_get(k, "inline_keyboard");
        assert(json_object_array_length(rows) == 2 + 4);
        assert(streq(cell(k, 0, 0, "callback_data"), "no") && streq(cell(k, 0, 1, "text"), "February 2027"));
        assert(streq(cell(k, 0, 2, "text"), "▶") && streq(cell(k, 0, 2, "callback_data"), "cl:1:0:0:2027-03"));
        assert(streq(cell(k, 1, 0, "text"), "Mon") && streq(cell(k, 1, 6, "text"), "Sun"));
        assert(streq(cell(k, 2, 0, "text"), "✖") && streq(cell(k, 2, 0, "callback_data"), "no"));
        assert(streq(cell(k, 2, 2, "text"), "3") && streq(cell(k, 2, 2, "callback_data"), "dy:1:0:0:2027-02-03"));
        assert(streq(cell(k, 3, 2, "text"), "10"));
        assert(streq(cell(k, 4, 5, "text"), "✖") && streq(cell(k, 4, 6, "text"), "·"));   /* the 20th, the 21st */
        json_object_put(k);

        /* December 2026 starts on a Tuesday: one blank before the 1st, and five blanks after the 31st,
         * a Thursday; extra rows come last. */
        json_object *extra = json_object_new_array();
        json_object *back = json_object_new_array();
        json_object_array_add(back, json_object_new_string("x"));
        json_object_array_add(extra, back);
        k = calendar_keyboard(LANG_RU, (Date) { 2026, 12, 1 }, 0, 0xFFFFFFFEu, "d:", "p", NULL, extra);
        rows = json_object_object_get(k, "inline_keyboard");
        assert(json_object_array_length(rows) == 2 + 5 + 1);
        assert(streq(cell(k, 0, 0, "text"), "◀") && streq(cell(k, 0, 1, "text"), "Декабрь 2026"));
        assert(streq(cell(k, 0, 2, "callback_data"), "no"));
        assert(streq(cell(k, 2, 0, "text"), " ") && streq(cell(k, 2, 1, "text"), "✖"));
        assert(streq(cell(k, 6, 3, "text"), "✖") && streq(cell(k, 6, 4, "text"), " "));
        assert(json_object_array_length(json_object_array_get_idx(rows, 6)) == 7);
        json_object_put(k);
        return 0;
}
