/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "money.h"
#include "shop-catalog.h"

int shop_catalog_load(const Config *c, ShopCatalog *ret) {
        ShopCatalog cat = {
                .custom_min = (int64_t) MIN(c->shop_custom_min, (uint64_t) SHOP_STARS_LIMIT),
                .custom_max = (int64_t) MIN(c->shop_custom_max, (uint64_t) SHOP_STARS_LIMIT),
        };
        _cleanup_free_ char *copy = strdup(strempty(c->shop_packages));
        size_t l = strlen(strempty(c->shop_currency));
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                ShopPackage *pkg = &cat.packages[cat.n_packages];
                if (cat.n_packages >= SHOP_PACKAGES_MAX ||
                    money_parse_priced(w, SHOP_STARS_LIMIT, 2, &pkg->stars, &pkg->price_minor) < 0)
                        return -EINVAL;
                cat.n_packages++;
        }
        if (money_parse(strempty(c->shop_star_price), 6, &cat.star_price_micro) < 0 || cat.star_price_micro <= 0)
                return -EINVAL;
        if (cat.custom_min < 1 || cat.custom_min > cat.custom_max)
                return -EINVAL;
        if (l < 3 || l > 5)
                return -EINVAL;
        for (size_t i = 0; i < l; i++)
                if (!isupper((unsigned char) c->shop_currency[i]))
                        return -EINVAL;
        memcpy(cat.currency, c->shop_currency, l + 1);
        *ret = cat;
        return 0;
}

/* The length of the group separator at @p (a space of any width, or @group_sep), or 0. */
static size_t separator_at(const char *p, const char *group_sep) {
        static const char *const spaces[] = { " ", "\u00a0", "\u202f", "\u2009" };

        for (size_t i = 0; i < ELEMENTSOF(spaces); i++)
                if (startswith(p, spaces[i]))
                        return strlen(spaces[i]);
        if (!isempty(group_sep) && startswith(p, group_sep))
                return strlen(group_sep);
        return 0;
}

ShopAmount shop_parse_amount(const ShopCatalog *cat, const char *text, const char *group_sep, int64_t *ret_stars) {
        const char *p = text;
        bool negative = false, overflow = false, grouped = false;
        size_t group = 0, sep;
        int64_t n = 0;

        while (isspace((unsigned char) *p))
                p++;
        if (*p == '-' || *p == '+')
                negative = *p++ == '-';
        if (!isdigit((unsigned char) *p))
                return SHOP_AMOUNT_NOT_NUMBER;
        for (;;) {
                if (isdigit((unsigned char) *p)) {
                        if (n > (INT64_MAX - 9) / 10)
                                overflow = true;
                        else
                                n = n * 10 + (*p - '0');
                        group++;
                        p++;
                        continue;
                }
                sep = separator_at(p, group_sep);
                if (sep == 0 || !isdigit((unsigned char) p[sep]))
                        break;
                /* "1 000", "12,500": the first group 1–3 digits, every later one exactly 3. */
                if (grouped ? group != 3 : group > 3)
                        return SHOP_AMOUNT_NOT_NUMBER;
                grouped = true;
                group = 0;
                p += sep;
        }
        if (grouped && group != 3)
                return SHOP_AMOUNT_NOT_NUMBER;
        while (isspace((unsigned char) *p))
                p++;
        if (*p)
                return SHOP_AMOUNT_NOT_NUMBER;
        if (negative || (n < cat->custom_min && !overflow))
                return SHOP_AMOUNT_TOO_SMALL;
        if (overflow || n > cat->custom_max)
                return SHOP_AMOUNT_TOO_LARGE;
        *ret_stars = n;
        return SHOP_AMOUNT_OK;
}

int shop_price(const ShopCatalog *cat, int64_t stars, int64_t *ret_minor) {
        for (size_t i = 0; i < cat->n_packages; i++)
                if (cat->packages[i].stars == stars) {
                        *ret_minor = cat->packages[i].price_minor;
                        return 0;
                }
        if (stars < cat->custom_min || stars > cat->custom_max)
                return -ERANGE;
        /* micro-units to cents, rounded up: at most 10⁶ Stars × 10¹² fits easily in 64 bits. */
        *ret_minor = (stars * cat->star_price_micro + 9999) / 10000;
        return 0;
}
