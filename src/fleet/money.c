/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

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
