/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "subscription-lifecycle.h"

#define YEAR_SEC (366 * 24 * 3600)

/* "72h" → 259200. Returns 0 or -EINVAL. */
static int duration_parse(const char *word, size_t len, int64_t *ret) {
        static const struct { char unit; int64_t sec; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
        char digits[16];
        int64_t n;

        if (len < 2 || len > sizeof digits || strspn(word, "0123456789") != len - 1)
                return -EINVAL;
        memcpy(digits, word, len - 1);
        digits[len - 1] = 0;
        n = strtoll(digits, NULL, 10);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (word[len - 1] == units[i].unit) {
                        if (n <= 0 || n > YEAR_SEC / units[i].sec)
                                return -EINVAL;
                        *ret = n * units[i].sec;
                        return 0;
                }
        return -EINVAL;
}

int lifecycle_settings_load(const Config *c, LifecycleSettings *ret) {
        LifecycleSettings s = {};
        const char *p = c->subscriptions_remind_before ?: "";

        for (;;) {
                p += strspn(p, " \t,");
                size_t len = strcspn(p, " \t,");
                if (len == 0)
                        break;
                if (s.n_remind >= LIFECYCLE_REMIND_MAX || duration_parse(p, len, &s.remind_sec[s.n_remind]) < 0)
                        return -EINVAL;
                s.n_remind++;
                p += len;
        }
        p = c->subscriptions_renew_before ?: "";
        if (duration_parse(p, strlen(p), &s.renew_sec) < 0)
                return -EINVAL;
        if (sales_plans_load(c, &s.plans) < 0)
                s.plans = (SalesPlans) {};
        s.grace_sec = (int64_t) MIN(c->subscriptions_grace_usec / USEC_PER_SEC, (uint64_t) YEAR_SEC);
        s.remove_sec = (int64_t) MIN(c->subscriptions_remove_after_days, (uint64_t) 3650) * 86400;
        s.warn_sec = MIN((int64_t) LIFECYCLE_WARN_SEC, s.remove_sec);
        *ret = s;
        return 0;
}

/* "{1,2,3}", PostgreSQL's text of the array of the @n numbers @v, in @buf. */
static void array_text(const int64_t *v, size_t n, char *buf, size_t size) {
        size_t len = (size_t) snprintf(buf, size, "{");

        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%" PRId64, i ? "," : "", v[i]);
        snprintf(buf + len, size - len, "}");
}

void lifecycle_params(const LifecycleSettings *s, const char *now, LifecycleParams *ret) {
        int64_t days[SALES_PLANS_MAX], minor[SALES_PLANS_MAX];

        for (size_t i = 0; i < s->plans.n_plans; i++) {
                days[i] = s->plans.plans[i].days;
                minor[i] = s->plans.plans[i].price_minor;
        }
        array_text(s->remind_sec, s->n_remind, ret->remind, sizeof ret->remind);
        array_text(days, s->plans.n_plans, ret->plan_days, sizeof ret->plan_days);
        array_text(minor, s->plans.n_plans, ret->plan_minor, sizeof ret->plan_minor);
        snprintf(ret->renew, sizeof ret->renew, "%" PRId64, s->renew_sec);
        snprintf(ret->grace, sizeof ret->grace, "%" PRId64, s->grace_sec);
        snprintf(ret->remove, sizeof ret->remove, "%" PRId64, s->remove_sec);
        snprintf(ret->warn, sizeof ret->warn, "%" PRId64, s->warn_sec);
        ret->values[0] = now;
        ret->values[1] = ret->remind;
        ret->values[2] = ret->grace;
        ret->values[3] = ret->remove;
        ret->values[4] = ret->warn;
        ret->values[5] = ret->renew;
        ret->values[6] = ret->plan_days;
        ret->values[7] = ret->plan_minor;
        /* Without valid plans the arrays are empty and nothing renews; "XXX" (ISO 4217's "no
         * currency") only keeps the parameter well-formed. */
        ret->values[8] = s->plans.currency[0] ? s->plans.currency : "XXX";
}
