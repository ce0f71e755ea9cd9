/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "keyboard.h"
#include "macro.h"

static const char *const months_en[] = { "January", "February", "March", "April", "May", "June", "July",
                                         "August", "September", "October", "November", "December" };
static const char *const months_ru[] = { "Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль",
                                         "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь" };
static const char *const months_ru_of[] = { "января", "февраля", "марта", "апреля", "мая", "июня", "июля",
                                            "августа", "сентября", "октября", "ноября", "декабря" };
static const char *const weekdays_en[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const weekdays_ru[] = { "Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс" };
static const char *const weekdays_ru_lower[] = { "пн", "вт", "ср", "чт", "пт", "сб", "вс" };

int64_t date_to_days(Date d) {
        struct tm tm = { .tm_year = d.year - 1900, .tm_mon = d.month - 1, .tm_mday = d.day, .tm_hour = 12 };

        return (int64_t) timegm(&tm) / 86400;
}

Date date_from_days(int64_t days) {
        time_t t = (time_t) (days * 86400 + 43200);
        struct tm tm;

        gmtime_r(&t, &tm);
        return (Date) { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday };
}

int date_parse(const char *s, Date *ret) {
        Date d;
        int n = 0;

        if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &d.year, &d.month, &d.day, &n) != 3 || n != 10 ||
            s[4] != '-' || s[7] != '-' || strspn(s, "0123456789-") != 10 || d.year < 1970 || d.month < 1 ||
            d.month > 12 || d.day < 1 || d.day > 31)
                return -EINVAL;
        /* A day the month does not have (31 April) comes back as another date. */
        Date back = date_from_days(date_to_days(d));
        if (back.month != d.month || back.day != d.day)
                return -EINVAL;
        *ret = d;
        return 0;
}

void date_format(Date d, char *buf, size_t size) {
        snprintf(buf, size, "%04d-%02d-%02d", d.year, d.month, d.day);
}

int date_weekday(Date d) {
        /* 1970-01-01 was a Thursday (4). */
        int64_t w = (date_to_days(d) + 3) % 7;
        return (int) (w < 0 ? w + 7 : w) + 1;
}

const char *weekday_text(Lang l, int weekday) {
        if (weekday < 1 || weekday > 7)
                return "?";
        return l == LANG_EN ? weekdays_en[weekday - 1] : weekdays_ru[weekday - 1];
}

char *date_text(Lang l, Date d, char *buf, size_t size) {
        int wd = date_weekday(d) - 1;

        if (l == LANG_EN)
                snprintf(buf, size, "%s, %.3s %d", weekdays_en[wd], months_en[d.month - 1], d.day);
        else
                snprintf(buf, size, "%s, %d %s", weekdays_ru_lower[wd], d.day, months_ru_of[d.month - 1]);
        return buf;
}

char *month_text(Lang l, Date d, char *buf, size_t size) {
        snprintf(buf, size, "%s %d", l == LANG_EN ? months_en[d.month - 1] : months_ru[d.month - 1], d.year);
        return buf;
}

char *local_text(Lang l, const char *local, char *buf, size_t size) {
        char day[11], date[64];
        Date d;

        if (!local || strlen(local) != 16 || local[10] != ' ')
                snprintf(buf, size, "%s", strempty(local));
        else {
                memcpy(day, local, 10);
                day[10] = 0;
                if (date_parse(day, &d) < 0)
                        snprintf(buf, size, "%s", local);
                else
                        snprintf(buf, size, "%s, %s", date_text(l, d, date, sizeof date), local + 11);
        }
        return buf;
}

json_object *calendar_keyboard(Lang l, Date month, uint32_t open, uint32_t bookable, const char *day_prefix,
                               const char *prev_data, const char *next_data, json_object *extra_rows) {
        json_object *rows = json_object_new_array(), *r;
        Date first = { month.year, month.month, 1 };
        int64_t start = date_to_days(first);
        int lead = date_weekday(first) - 1;
        char title[64], data[64], label[8];

        r = json_object_new_array();
        json_object_array_add(r, button(prev_data ? "◀" : " ", prev_data ?: "no"));
        json_object_array_add(r, button(month_text(l, first, title, sizeof title), "no"));
        json_object_array_add(r, button(next_data ? "▶" : " ", next_data ?: "no"));
        json_object_array_add(rows, r);
        r = json_object_new_array();
        for (int wd = 1; wd <= 7; wd++)
                json_object_array_add(r, button(weekday_text(l, wd), "no"));
        json_object_array_add(rows, r);

        for (int cell = 0; ; cell++) {
                Date d = date_from_days(start + cell - lead);
                bool in_month = cell >= lead && d.month == first.month;

                if (cell % 7 == 0) {
                        if (cell > 0 && !in_month)
                                break;
                        r = json_object_new_array();
                        json_object_array_add(rows, r);
                }
                if (!in_month)
                        json_object_array_add(r, button(" ", "no"));
                else if (open & (UINT32_C(1) << d.day)) {
                        snprintf(label, sizeof label, "%d", d.day);
                        snprintf(data, sizeof data, "%s", day_prefix);
                        date_format(d, data + strlen(data), sizeof data - strlen(data));
                        json_object_array_add(r, button(label, data));
                } else
                        json_object_array_add(r, button(bookable & (UINT32_C(1) << d.day) ? "✖" : "·", "no"));
        }
        for (size_t i = 0; extra_rows && i < json_object_array_length(extra_rows); i++)
                json_object_array_add(rows, json_object_get(json_object_array_get_idx(extra_rows, i)));
        json_object_put(extra_rows);
        return inline_keyboard(rows);
}
