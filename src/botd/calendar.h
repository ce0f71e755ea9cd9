/* SPDX-License-Identifier: MIT */
#pragma once

/* Dates of a business's calendar (wall-clock dates in its zone, as bookingd gives them) and the
 * inline month calendar customers pick a day from. Pure: no clock, no zone. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "i18n.h"

/* A date of the proleptic Gregorian calendar. */
typedef struct Date {
        int year, month, day;   /* month 1–12, day 1–31 */
} Date;

/* Parses "YYYY-MM-DD" (a date that exists). Returns 0 or -EINVAL. */
int date_parse(const char *s, Date *ret);

/* Writes "YYYY-MM-DD" (11 bytes with the NUL). */
void date_format(Date d, char *buf, size_t size);

/* Days since 1970-01-01, and back. */
int64_t date_to_days(Date d);
Date date_from_days(int64_t days);

/* 1 (Monday) to 7 (Sunday). */
int date_weekday(Date d);

/* "Wed, Dec 9" (en) or "ср, 9 декабря" (ru). Returns @buf. */
char *date_text(Lang l, Date d, char *buf, size_t size);

/* "December 2026" (en) or "Декабрь 2026" (ru). Returns @buf. */
char *month_text(Lang l, Date d, char *buf, size_t size);

/* "Mon" / "Пн" of ISO weekday @weekday (1–7). */
const char *weekday_text(Lang l, int weekday);

/* "2026-12-09 10:00" (bookingd's "local") as "Wed, Dec 9, 10:00" / "ср, 9 декабря, 10:00";
 * anything else as it is. Returns @buf. */
char *local_text(Lang l, const char *local, char *buf, size_t size);

/* The month calendar of @month's month: a header row (◀ month ▶, the arrows only where
 * @prev_data / @next_data are given), the weekdays, and a row per week. Day N is a button with
 * data "<@day_prefix>YYYY-MM-DD" when @open has bit N (1–31); else "✖" (full) when @bookable has
 * bit N, "·" when it does not (past, or beyond the horizon), with data "no", as blanks (days
 * outside the month) have. Returns a new {"inline_keyboard"} with @extra_rows (consumed, may be
 * NULL) appended. */
json_object *calendar_keyboard(Lang l, Date month, uint32_t open, uint32_t bookable, const char *day_prefix,
                               const char *prev_data, const char *next_data, json_object *extra_rows);
