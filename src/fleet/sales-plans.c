/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "money.h"
#include "sales-plans.h"

int sales_plans_load(const Config *c, SalesPlans *ret) {
        _cleanup_free_ char *copy = strdup(strempty(c->sales_plans));
        const char *cur = strempty(c->sales_currency);
        SalesPlans p = {};
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                SalesPlan *plan = &p.plans[p.n_plans];
                if (p.n_plans >= SALES_PLANS_MAX || money_parse_priced(w, SALES_DAYS_MAX, 2, &plan->days, &plan->price_minor) < 0 ||
                    sales_plan_find(&p, plan->days))
                        return -EINVAL;
                p.n_plans++;
        }
        if (p.n_plans == 0 || strlen(cur) != 3 || c->sales_trial_days > SALES_DAYS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < 3; i++)
                if (!isupper((unsigned char) cur[i]))
                        return -EINVAL;
        memcpy(p.currency, cur, 4);
        p.trial_days = (int64_t) c->sales_trial_days;
        *ret = p;
        return 0;
}

const SalesPlan *sales_plan_find(const SalesPlans *p, int64_t days) {
        for (size_t i = 0; i < p->n_plans; i++)
                if (p->plans[i].days == days)
                        return &p->plans[i];
        return NULL;
}

int64_t sales_plan_monthly(const SalesPlan *plan) {
        return (plan->price_minor * 30 + plan->days / 2) / plan->days;
}
