/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <libintl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "macro.h"

#define DOMAIN "tgfleet"
#define NBSP "\u00a0"

int i18n_init(const char *localedir) {
        /* English is the msgid itself, so Russian is the only catalog to look in: LANGUAGE names it
         * around each lookup (ru_lookup()). C.UTF-8 (built into glibc) is not "C", so LANGUAGE is
         * honoured, and it needs no generated locales on the host. */
        if (!setlocale(LC_ALL, "C.UTF-8"))
                return -ENOENT;
        if (!bindtextdomain(DOMAIN, localedir ?: LOCALEDIR) || !bind_textdomain_codeset(DOMAIN, "UTF-8"))
                return -errno ?: -ENOMEM;
        return 0;
}

Lang lang_from_code(const char *code) {
        if (code && strncmp(code, "en", 2) == 0 && (code[2] == 0 || code[2] == '-' || code[2] == '_'))
                return LANG_EN;
        return LANG_RU;
}

const char *lang_to_string(Lang l) {
        return l == LANG_EN ? "en" : "ru";
}

Lang lang_from_string(const char *s) {
        return s && streq(s, "en") ? LANG_EN : LANG_RU;
}

/* LANGUAGE is set only while our own catalog is read: the C library's messages (strerror() in
 * logs) stay English for the operator. glibc caches lookups per domain and message, and ours are
 * always made with the same LANGUAGE, so the cache stays right. */
static const char *ru_lookup(const char *singular, const char *plural, unsigned long n) {
        const char *r;

        (void) setenv("LANGUAGE", "ru", 1);
        r = plural ? dngettext(DOMAIN, singular, plural, n) : dgettext(DOMAIN, singular);
        (void) unsetenv("LANGUAGE");
        return r;
}

const char *T(Lang l, const char *msgid) {
        return l == LANG_EN ? msgid : ru_lookup(msgid, NULL, 0);
}

const char *TN(Lang l, const char *singular, const char *plural, int64_t n) {
        unsigned long k = (unsigned long) (n < 0 ? -n : n);

        if (l == LANG_EN)
                return k == 1 ? singular : plural;
        return ru_lookup(singular, plural, k);
}

char *format_number(Lang l, int64_t n, char *buf, size_t size) {
        const char *sep = l == LANG_EN ? "," : NBSP;
        char digits[24], out[64];
        size_t nd, o = 0;

        snprintf(digits, sizeof digits, "%" PRIu64, (uint64_t) (n < 0 ? -(uint64_t) n : (uint64_t) n));
        nd = strlen(digits);
        if (n < 0)
                out[o++] = '-';
        for (size_t i = 0; i < nd; i++) {
                if (i > 0 && (nd - i) % 3 == 0) {
                        memcpy(out + o, sep, strlen(sep));
                        o += strlen(sep);
                }
                out[o++] = digits[i];
        }
        out[o] = 0;
        snprintf(buf, size, "%s", out);
        return buf;
}

char *format_money(Lang l, int64_t minor, const char *currency, char *buf, size_t size) {
        static const struct { const char *code, *symbol; } symbols[] = {
                { "USD", "$" }, { "EUR", "€" }, { "RUB", "₽" },
        };
        const char *symbol = NULL;
        char whole[48];
        int64_t abs_minor = minor < 0 ? -minor : minor;

        for (size_t i = 0; i < ELEMENTSOF(symbols); i++)
                if (streq(currency, symbols[i].code))
                        symbol = symbols[i].symbol;
        format_number(l, abs_minor / 100, whole, sizeof whole);
        if (l == LANG_EN && symbol)
                snprintf(buf, size, "%s%s%s.%02" PRId64, minor < 0 ? "-" : "", symbol, whole, abs_minor % 100);
        else
                snprintf(buf, size, "%s%s%s%02" PRId64 NBSP "%s", minor < 0 ? "-" : "", whole,
                         l == LANG_EN ? "." : ",", abs_minor % 100, symbol ?: currency);
        return buf;
}

char *format_time(Lang l, int64_t unix_sec, char *buf, size_t size) {
        static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        time_t t = (time_t) unix_sec;
        struct tm tm;

        if (!gmtime_r(&t, &tm)) {
                snprintf(buf, size, "?");
                return buf;
        }
        if (l == LANG_EN)
                snprintf(buf, size, "%s %d, %d %02d:%02d UTC", months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900,
                         tm.tm_hour, tm.tm_min);
        else
                snprintf(buf, size, "%02d.%02d.%d %02d:%02d UTC", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
                         tm.tm_hour, tm.tm_min);
        return buf;
}

char *html_escape(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (; *s; s++) {
                const char *rep = NULL;
                char one[2] = { *s, 0 };
                size_t len;

                switch (*s) {
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '&': rep = "&amp;"; break;
                case '"': rep = "&quot;"; break;
                default: rep = one;
                }
                len = strlen(rep);
                if (n + len >= size)
                        break;
                memcpy(buf + n, rep, len);
                n += len;
        }
        /* Cut short: never end inside a UTF-8 sequence. */
        if (*s) {
                while (n > 0 && ((unsigned char) buf[n - 1] & 0xC0) == 0x80)
                        n--;
                if (n > 0 && ((unsigned char) buf[n - 1] & 0x80))
                        n--;
        }
        buf[n] = 0;
        return buf;
}

void text_appendf(char *buf, size_t size, const char *format, ...) {
        size_t len = strnlen(buf, size);
        va_list ap;

        if (len + 1 >= size)
                return;
        va_start(ap, format);
        (void) vsnprintf(buf + len, size - len, format, ap);
        va_end(ap);
}
