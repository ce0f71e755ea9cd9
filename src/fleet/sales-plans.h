/* SPDX-License-Identifier: MIT */
#pragma once

/* What the booking platform's subscriptions cost: the plans of [Sales] Plans= (DAYS:PRICE …) in
 * [Sales] Currency=. paymentd prices every subscription payment from here (never from what a bot
 * says); the sales bot shows the same plans. Prices are integer minor units. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SALES_PLANS_MAX 8
#define SALES_DAYS_MAX 3650   /* the longest plan or trial */

typedef struct SalesPlan {
        int64_t days;
        int64_t price_minor;
} SalesPlan;

typedef struct SalesPlans {
        SalesPlan plans[SALES_PLANS_MAX];   /* as configured, each number of days once */
        size_t n_plans;
        char currency[8];
        int64_t trial_days;                 /* [Sales] TrialDays=; 0: no trial */
} SalesPlans;

/* Builds the plans from @c. Returns 0, or -EINVAL when Plans= does not parse, names a number of
 * days twice or none, Currency= is not 3 capital letters, or TrialDays= is above 3650. */
int sales_plans_load(const Config *c, SalesPlans *ret);

/* The plan of @days, or NULL. */
const SalesPlan *sales_plan_find(const SalesPlans *p, int64_t days);

/* A plan's price per 30 days, rounded to the minor unit. */
int64_t sales_plan_monthly(const SalesPlan *plan);
