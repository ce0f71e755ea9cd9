/* SPDX-License-Identifier: MIT */
#pragma once

/* What the Stars shop sells and for how much: the packages and the per-Star price of a custom
 * amount, from [Shop] in the configuration. paymentd prices every order from here (never from
 * what a bot says); botd shows the same prices. Prices are integer cents of [Shop] Currency. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SHOP_PACKAGES_MAX 8
#define SHOP_STARS_LIMIT 1000000   /* the orders table's own bound */

typedef struct ShopPackage {
        int64_t stars;
        int64_t price_minor;
} ShopPackage;

typedef struct ShopCatalog {
        ShopPackage packages[SHOP_PACKAGES_MAX];
        size_t n_packages;
        int64_t star_price_micro;   /* one Star, in millionths of the currency unit */
        int64_t custom_min, custom_max;
        char currency[8];
} ShopCatalog;

typedef enum ShopAmount {
        SHOP_AMOUNT_OK,
        SHOP_AMOUNT_NOT_NUMBER,     /* not a whole number: "abc", "1.5", "1e3", "", "1,00" */
        SHOP_AMOUNT_TOO_SMALL,      /* below CustomMin, zero and negative numbers included */
        SHOP_AMOUNT_TOO_LARGE,      /* above CustomMax, including numbers too long for 64 bits */
} ShopAmount;

/* Builds the catalog from @c. Returns 0, or -EINVAL (logged by the caller) when Packages or
 * StarPrice does not parse, a bound is out of order, or Currency is not 3–5 capital letters. */
int shop_catalog_load(const Config *c, ShopCatalog *ret);

/* Parses what a user typed as a custom amount of Stars and checks it against the catalog's
 * bounds. Surrounding spaces are allowed, and digits grouped by three as people write them:
 * with spaces of any width ("1 000", "1 000"), or with @group_sep (NULL for none; "," for
 * English, "1,000"). Sets *ret_stars only on SHOP_AMOUNT_OK. */
ShopAmount shop_parse_amount(const ShopCatalog *cat, const char *text, const char *group_sep, int64_t *ret_stars);

/* The price of @stars: a package's price when @stars is a package, else the per-Star price
 * rounded up to a cent. Returns 0, or -ERANGE when @stars is neither a package nor within the
 * custom bounds. */
int shop_price(const ShopCatalog *cat, int64_t stars, int64_t *ret_minor);
