/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "receipt.h"

static int parse_email(const char *s, size_t n, char ret[static RECEIPT_CONTACT_MAX]) {
        const char *at = memchr(s, '@', n), *dot;

        if (n >= RECEIPT_CONTACT_MAX || !at || at == s || memchr(at + 1, '@', n - (size_t) (at - s) - 1))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= ' ' || s[i] == 0x7f || strchr("<>()[],;:\\\"", s[i]))
                        return -EINVAL;
        dot = memrchr(at + 1, '.', n - (size_t) (at - s) - 1);
        if (!dot || dot == at + 1 || dot == s + n - 1)
                return -EINVAL;
        memcpy(ret, s, n);
        ret[n] = 0;
        return RECEIPT_EMAIL;
}

static int parse_phone(const char *s, size_t n, char ret[static RECEIPT_CONTACT_MAX]) {
        size_t digits = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] >= '0' && s[i] <= '9') {
                        if (digits >= 15)
                                return -EINVAL;
                        ret[digits++] = s[i];
                } else if (!(strchr(" -.()", s[i]) || (s[i] == '+' && i == 0)))
                        return -EINVAL;
        }
        if (digits < 11)
                return -EINVAL;
        if (digits == 11 && ret[0] == '8')
                ret[0] = '7';   /* 8 900 …, Russia's trunk prefix (also when written "+8 900 …") */
        ret[digits] = 0;
        return RECEIPT_PHONE;
}

int receipt_contact_parse(const char *text, char ret[static RECEIPT_CONTACT_MAX]) {
        const char *s = text + strspn(text, " \t\n");
        size_t n = strlen(s);

        while (n > 0 && strchr(" \t\n", s[n - 1]))
                n--;
        if (n == 0)
                return -EINVAL;
        return memchr(s, '@', n) ? parse_email(s, n, ret) : parse_phone(s, n, ret);
}
