/* SPDX-License-Identifier: MIT */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "macro.h"

int main(void) {
        char buf[128];

        assert(i18n_init(getenv("TGFLEET_LOCALEDIR")) == 0);
        assert(lang_from_code("en") == LANG_EN && lang_from_code("en-GB") == LANG_EN);
        assert(lang_from_code("ru") == LANG_RU && lang_from_code(NULL) == LANG_RU);
        assert(lang_from_code("de") == LANG_RU && lang_from_code("eng") == LANG_RU);

        /* Russian comes from the catalog, with its three plural forms; English is the msgid. */
        assert(streq(T(LANG_RU, "💳 Pay"), "💳 Оплатить"));
        assert(streq(T(LANG_EN, "💳 Pay"), "💳 Pay"));
        assert(streq(TN(LANG_RU, "%s Star", "%s Stars", 1), "%s звезда"));
        assert(streq(TN(LANG_RU, "%s Star", "%s Stars", 3), "%s звезды"));
        assert(streq(TN(LANG_RU, "%s Star", "%s Stars", 11), "%s звёзд"));
        assert(streq(TN(LANG_RU, "%s Star", "%s Stars", 21), "%s звезда"));
        assert(streq(TN(LANG_EN, "%s Star", "%s Stars", 1), "%s Star"));
        assert(streq(TN(LANG_EN, "%s Star", "%s Stars", 0), "%s Stars"));

        assert(streq(format_number(LANG_EN, 1234567, buf, sizeof buf), "1,234,567"));
        assert(streq(format_number(LANG_RU, 1234567, buf, sizeof buf), "1\u00a0234\u00a0567"));
        assert(streq(format_number(LANG_EN, 100, buf, sizeof buf), "100"));
        assert(streq(format_number(LANG_EN, -1000, buf, sizeof buf), "-1,000"));
        assert(streq(format_money(LANG_EN, 199, "USD", buf, sizeof buf), "$1.99"));
        assert(streq(format_money(LANG_RU, 199, "USD", buf, sizeof buf), "1,99\u00a0$"));
        assert(streq(format_money(LANG_EN, 123456, "USDT", buf, sizeof buf), "1,234.56\u00a0USDT"));
        assert(streq(format_money(LANG_RU, 5, "RUB", buf, sizeof buf), "0,05\u00a0₽"));
        assert(streq(format_time(LANG_EN, 1795251900, buf, sizeof buf), "Nov 21, 2026 09:05 UTC"));
        assert(streq(format_time(LANG_RU, 1795251900, buf, sizeof buf), "21.11.2026 09:05 UTC"));
        /* HTML: escaped whole; cut short only on a character boundary. */
        assert(streq(html_escape("Салон «Анна» & <Co>", buf, sizeof buf), "Салон «Анна» &amp; &lt;Co&gt;"));
        assert(streq(html_escape("Café", buf, sizeof buf), "Café"));
        assert(streq(html_escape("Café", buf, 5), "Caf"));
        assert(streq(html_escape("a<b", buf, 5), "a"));

        /* The C library's own messages stay English (they end up in the operator's logs). */
        assert(streq(strerror(ENOENT), "No such file or directory"));
        return 0;
}
