/* SPDX-License-Identifier: MIT */
#pragma once

/* Texts and formats for Telegram users: Russian by default, English when the user's
 * language_code says so. Texts are written in English in the code (msgids) and translated through
 * the gettext catalog "tgfleet" (po/ru.po); numbers, money and dates follow each language's
 * conventions. */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"

typedef enum Lang {
        LANG_RU,
        LANG_EN,
        _LANG_MAX,
} Lang;

#define N_(s) (s)

/* Loads the catalogs from @localedir (NULL: the installed ones). Returns 0 or -errno. */
int i18n_init(const char *localedir);

/* English for language codes "en", "en-…"; Russian for everything else, including none. */
Lang lang_from_code(const char *language_code);

/* "ru" or "en". */
const char *lang_to_string(Lang l);
Lang lang_from_string(const char *s);

/* @msgid in @l. The result is static. */
const char *T(Lang l, const char *msgid);

/* The singular or plural form for @n in @l (Russian has three). */
const char *TN(Lang l, const char *singular, const char *plural, int64_t n);

/* 1000000 → "1 000 000" (ru, with no-break spaces) or "1,000,000" (en). Returns @buf. */
char *format_number(Lang l, int64_t n, char *buf, size_t size);

/* Cents of @currency: "$1.99" / "1,99 $", "1.99 USDT" / "1,99 USDT". Returns @buf. */
char *format_money(Lang l, int64_t minor, const char *currency, char *buf, size_t size);

/* A moment, in UTC: "21.11.2026 09:05 UTC" (ru) or "Nov 21, 2026 09:05 UTC" (en). Returns @buf. */
char *format_time(Lang l, int64_t unix_sec, char *buf, size_t size);

/* Copies @s into @buf with the characters HTML parse mode treats specially escaped; truncates on
 * a character boundary when @buf is too short. Returns @buf. */
char *html_escape(const char *s, char *buf, size_t size);

/* Appends to the text in @buf (of @size bytes, a string), cutting what does not fit. */
_printf_(3, 4) void text_appendf(char *buf, size_t size, const char *format, ...);
