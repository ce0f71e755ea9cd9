/* SPDX-License-Identifier: MIT */
#include "sales-plans.h"
#include "test-util.h"

static int load(const char *plans, const char *currency, SalesPlans *ret) {
        Config c = { .sales_plans = (char *) plans, .sales_currency = (char *) currency };
        return sales_plans_load(&c, ret);
}

int main(void) {
        SalesPlans p;
        Config c;

        /* The defaults: 30/90/180/365 days at 299/799/1499/2499 RUB. */
        assert(config_load(&c, "/nonexistent/tgfleet.conf") == 0);
        assert(sales_plans_load(&c, &p) == 0 && p.n_plans == 4 && streq(p.currency, "RUB") && p.trial_days == 0);
        assert(sales_plan_find(&p, 90)->price_minor == 79900 && sales_plan_find(&p, 365)->price_minor == 249900);
        assert(!sales_plan_find(&p, 31));
        assert(sales_plan_monthly(sales_plan_find(&p, 30)) == 29900);
        assert(sales_plan_monthly(sales_plan_find(&p, 90)) == 26633);    /* 799 / 3 */
        assert(sales_plan_monthly(sales_plan_find(&p, 365)) == 20540);   /* 2499 × 30 / 365 */
        /* A trial of up to ten years. */
        c.sales_trial_days = 14;
        assert(sales_plans_load(&c, &p) == 0 && p.trial_days == 14);
        c.sales_trial_days = 3651;
        assert(sales_plans_load(&c, &p) == -EINVAL);
        config_done(&c);

        assert(load("7:99.50", "EUR", &p) == 0 && p.plans[0].price_minor == 9950);
        assert(load("", "RUB", &p) == -EINVAL);
        assert(load("30:299 30:199", "RUB", &p) == -EINVAL);
        assert(load("0:299", "RUB", &p) == -EINVAL);
        assert(load("3651:299", "RUB", &p) == -EINVAL);
        assert(load("30:0", "RUB", &p) == -EINVAL);
        assert(load("30:2.999", "RUB", &p) == -EINVAL);
        assert(load("30=299", "RUB", &p) == -EINVAL);
        assert(load("30:299", "rub", &p) == -EINVAL);
        assert(load("1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1 9:1", "RUB", &p) == -EINVAL);
        return 0;
}
