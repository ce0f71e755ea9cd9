/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int money_parse(const char *s, unsigned scale, int64_t *ret) {
        int64_t v = 0;
        unsigned frac = 0;
        bool dot = false, digits = false;

        if (scale > MONEY_SCALE_MAX || !s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (dot || !digits || scale == 0)
                                return -EINVAL;
                        dot = true;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (dot && ++frac > scale)
                        return -EINVAL;
                digits = true;
                if (v > (INT64_MAX - (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (*p - '0');
        }
        if (!digits || (dot && frac == 0))
                return -EINVAL;
        for (; frac < scale; frac++) {
                if (v > INT64_MAX / 10)
                        return -ERANGE;
                v *= 10;
        }
        *ret = v;
        return 0;
}

int money_format(int64_t minor, unsigned scale, char *buf, size_t size) {
        uint64_t mag = minor < 0 ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor, div = 1;
        int n;

        if (scale > MONEY_SCALE_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < scale; i++)
                div *= 10;
        if (scale == 0)
                n = snprintf(buf, size, "%s%" PRIu64, minor < 0 ? "-" : "", mag);
        else
                n = snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64, minor < 0 ? "-" : "",
                             mag / div, (int) scale, mag % div);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int money_parse_priced(const char *word, int64_t max_count, unsigned scale, int64_t *ret_count, int64_t *ret_minor) {
        const char *colon = strchr(word, ':');
        char count[24];
        int64_t n, price;
        char *end;

        if (!colon || colon == word || (size_t) (colon - word) >= sizeof count)
                return -EINVAL;
        memcpy(count, word, colon - word);
        count[colon - word] = 0;
        if (!isdigit((unsigned char) count[0]))
                return -EINVAL;
        errno = 0;
        n = strtoll(count, &end, 10);
        if (errno || *end || n <= 0 || n > max_count)
                return -EINVAL;
        if (money_parse(colon + 1, scale, &price) < 0 || price <= 0)
                return -EINVAL;
        *ret_count = n;
        *ret_minor = price;
        return 0;
}
