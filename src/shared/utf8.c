/* SPDX-License-Identifier: MIT */
#include "utf8.h"

static int is_lead(char c) {
        return ((unsigned char) c & 0xC0) != 0x80;
}

size_t utf8_chars(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += is_lead(*s);
        return n;
}

size_t utf8_prefix(const char *s, size_t max) {
        size_t i = 0, chars = 0;

        for (; s[i]; i++)
                if (is_lead(s[i]) && chars++ == max)
                        break;
        return i;
}
