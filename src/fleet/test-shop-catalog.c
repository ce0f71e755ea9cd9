/* SPDX-License-Identifier: MIT */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "shop-catalog.h"

static Config config(const char *packages, const char *star_price, const char *currency) {
        return (Config) {
                .shop_packages = (char *) packages, .shop_star_price = (char *) star_price,
                .shop_currency = (char *) currency, .shop_custom_min = 50, .shop_custom_max = 100000,
        };
}

int main(void) {
        ShopCatalog cat;
        Config c = config("100:1.99 250:4.79 500:9.29 1000:17.99", "0.0189", "USD");
        int64_t stars = -1, price = -1;

        assert(shop_catalog_load(&c, &cat) == 0);
        assert(cat.n_packages == 4 && cat.packages[3].stars == 1000 && cat.packages[3].price_minor == 1799);
        assert(strcmp(cat.currency, "USD") == 0);

        /* Packages at their own price, custom amounts at the per-Star price rounded up. */
        assert(shop_price(&cat, 250, &price) == 0 && price == 479);
        assert(shop_price(&cat, 51, &price) == 0 && price == 97);    /* 0.9639 → 0.97 */
        assert(shop_price(&cat, 100000, &price) == 0 && price == 189000);
        assert(shop_price(&cat, 49, &price) == -ERANGE && price == 189000);
        assert(shop_price(&cat, 100001, &price) == -ERANGE);
        assert(shop_price(&cat, -100, &price) == -ERANGE);

        /* What users type. */
        assert(shop_parse_amount(&cat, " 750 ", NULL, &stars) == SHOP_AMOUNT_OK && stars == 750);
        assert(shop_parse_amount(&cat, "+60", NULL, &stars) == SHOP_AMOUNT_OK && stars == 60);
        assert(shop_parse_amount(&cat, "abc", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "12.5", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1e3", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "100 stars", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "0", NULL, &stars) == SHOP_AMOUNT_TOO_SMALL);
        assert(shop_parse_amount(&cat, "-5", NULL, &stars) == SHOP_AMOUNT_TOO_SMALL);
        assert(shop_parse_amount(&cat, "49", NULL, &stars) == SHOP_AMOUNT_TOO_SMALL);
        assert(shop_parse_amount(&cat, "100001", NULL, &stars) == SHOP_AMOUNT_TOO_LARGE);
        assert(shop_parse_amount(&cat, "99999999999999999999999", NULL, &stars) == SHOP_AMOUNT_TOO_LARGE);
        assert(stars == 60);

        /* Digits grouped by three, as the bot itself writes them: spaces of any width always,
         * the language's own separator when given; a group of another size is no number. */
        assert(shop_parse_amount(&cat, "1 000", NULL, &stars) == SHOP_AMOUNT_OK && stars == 1000);
        assert(shop_parse_amount(&cat, "1\u00a0000", NULL, &stars) == SHOP_AMOUNT_OK && stars == 1000);
        assert(shop_parse_amount(&cat, "12\u202f500", NULL, &stars) == SHOP_AMOUNT_OK && stars == 12500);
        assert(shop_parse_amount(&cat, "1,000", ",", &stars) == SHOP_AMOUNT_OK && stars == 1000);
        assert(shop_parse_amount(&cat, " 100,000 ", ",", &stars) == SHOP_AMOUNT_OK && stars == 100000);
        assert(shop_parse_amount(&cat, "1,000", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1,00", ",", &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1 0000", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1000 000", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1,000,000", ",", &stars) == SHOP_AMOUNT_TOO_LARGE);
        assert(shop_parse_amount(&cat, "1,", ",", &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, ",100", ",", &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "1 000 stars", NULL, &stars) == SHOP_AMOUNT_NOT_NUMBER);
        assert(shop_parse_amount(&cat, "-1 000", NULL, &stars) == SHOP_AMOUNT_TOO_SMALL);

        /* Bad configuration is refused, not guessed at. */
        c = config("100:1.99 x:2", "0.0189", "USD");
        assert(shop_catalog_load(&c, &cat) == -EINVAL);
        c = config("100:-1", "0.0189", "USD");
        assert(shop_catalog_load(&c, &cat) == -EINVAL);
        c = config("100:1.999", "0.0189", "USD");
        assert(shop_catalog_load(&c, &cat) == -EINVAL);
        c = config("100:1.99", "0", "USD");
        assert(shop_catalog_load(&c, &cat) == -EINVAL);
        c = config("100:1.99", "0.01", "usd");
        assert(shop_catalog_load(&c, &cat) == -EINVAL);
        c = config("", "0.01", "USDT");
        assert(shop_catalog_load(&c, &cat) == 0 && cat.n_packages == 0);
        return 0;
}
