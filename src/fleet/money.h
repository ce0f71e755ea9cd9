/* SPDX-License-Identifier: MIT */
#pragma once

/* Money is integer minor units (kopecks, cents, whole Stars) or a decimal string, never a binary
 * float. @scale is the number of fraction digits of the currency (2 for RUB and USD, 0 for XTR). */

#include <stddef.h>
#include <stdint.h>

#define MONEY_SCALE_MAX 8

/* Parses a non-negative decimal string ("15", "15.5", "15.00") into minor units. Rejects signs,
 * exponents, spaces, empty parts, more than @scale fraction digits and overflow: -EINVAL/-ERANGE. */
int money_parse(const char *s, unsigned scale, int64_t *ret);

/* Writes @minor (may be negative) as a decimal string with exactly @scale fraction digits.
 * Returns 0, or -ENOBUFS when @size is too small. */
int money_format(int64_t minor, unsigned scale, char *buf, size_t size);

/* Parses "COUNT:PRICE" (a package of COUNT things for PRICE, "250:4.79", "30:299") into a whole
 * COUNT of 1…@max_count and PRICE > 0 in minor units of @scale. Returns 0 or -EINVAL. */
int money_parse_priced(const char *word, int64_t max_count, unsigned scale, int64_t *ret_count, int64_t *ret_minor);
