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
        s.grace_sec = (int64_t) MIN(c->subscriptions_grace_usec / USEC_PER_SEC, (uint64_t) YEAR_SEC);
        s.remove_sec = (int64_t) MIN(c->subscriptions_remove_after_days, (uint64_t) 3650) * 86400;
        s.warn_sec = MIN((int64_t) LIFECYCLE_WARN_SEC, s.remove_sec);
        *ret = s;
        return 0;
}

void lifecycle_params(const LifecycleSettings *s, const char *now, LifecycleParams *ret) {
        size_t len = 0;

        len += (size_t) snprintf(ret->remind, sizeof ret->remind, "{");
        for (size_t i = 0; i < s->n_remind; i++)
                len += (size_t) snprintf(ret->remind + len, sizeof ret->remind - len, "%s%" PRId64, i ? "," : "",
                                         s->remind_sec[i]);
        snprintf(ret->remind + len, sizeof ret->remind - len, "}");
        snprintf(ret->grace, sizeof ret->grace, "%" PRId64, s->grace_sec);
        snprintf(ret->remove, sizeof ret->remove, "%" PRId64, s->remove_sec);
        snprintf(ret->warn, sizeof ret->warn, "%" PRId64, s->warn_sec);
        ret->values[0] = now;
        ret->values[1] = ret->remind;
        ret->values[2] = ret->grace;
        ret->values[3] = ret->remove;
        ret->values[4] = ret->warn;
}
