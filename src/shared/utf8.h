/* SPDX-License-Identifier: MIT */
#pragma once

/* Character counts of UTF-8 text, as people and providers count (a "128 characters" limit is in
 * characters, not bytes). The text is taken as valid UTF-8 (json-c and Telegram give nothing
 * else); a stray continuation byte counts for nothing. */

#include <stddef.h>

/* The number of characters of @s. */
size_t utf8_chars(const char *s);

/* The length in bytes of the first @max characters of @s (all of it when shorter): a cut there
 * never splits a character. */
size_t utf8_prefix(const char *s, size_t max);
