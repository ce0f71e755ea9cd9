/* SPDX-License-Identifier: MIT */
#pragma once

/* The subscription lifecycle's settings ([Subscriptions], and the plans of [Sales] that renewals
 * are priced at) and the one call that runs it: subscription_renewals() of
 * migrations/0016_auto_renewal.sql, then subscription_lifecycle() of migrations/0014_lifecycle.sql,
 * as tgfleet-paymentd (every IntervalSec) and tgfleetctl subscriptions run (once, at any moment)
 * make it. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sales-plans.h"

#define LIFECYCLE_REMIND_MAX 8
#define LIFECYCLE_WARN_SEC (3 * 24 * 3600)   /* the last warning, before the removal */

typedef struct LifecycleSettings {
        int64_t remind_sec[LIFECYCLE_REMIND_MAX];
        size_t n_remind;
        int64_t grace_sec, remove_sec, warn_sec;
        int64_t renew_sec;
        SalesPlans plans;   /* n_plans 0 when [Sales] is invalid: nothing renews */
} LifecycleSettings;

/* The SQL: its parameters are lifecycle_params()'s; each row a renewal payment made (id, client,
 * "renew", 0), renewals first, or a notice made (id, client, kind, before_sec). */
#define LIFECYCLE_SQL                                                                                          \
        "SELECT id, tenant_id, 'renew', 0 FROM subscription_renewals($1::timestamptz, $6, $7::integer[], "    \
        "$8::bigint[], $9) UNION ALL "                                                                         \
        "SELECT id::text, tenant_id, kind, before_sec FROM subscription_lifecycle($1::timestamptz, "          \
        "$2::integer[], $3, $4, $5)"
#define LIFECYCLE_N_PARAMS 9

/* Reads the settings of @c. Returns 0, or -EINVAL when RemindBefore= is not a list of 0 to
 * LIFECYCLE_REMIND_MAX durations ("72h", "3d", "90m", "600s") of at most a year, or RenewBefore=
 * is not one such duration. Invalid plans only mean that nothing renews. */
int lifecycle_settings_load(const Config *c, LifecycleSettings *ret);

/* The texts of LIFECYCLE_SQL's parameters for a run at @now ("now", or an ISO time). */
typedef struct LifecycleParams {
        char remind[LIFECYCLE_REMIND_MAX * 12 + 3], grace[24], remove[24], warn[24], renew[24];
        char plan_days[SALES_PLANS_MAX * 12 + 3], plan_minor[SALES_PLANS_MAX * 21 + 3];
        const char *values[LIFECYCLE_N_PARAMS];
} LifecycleParams;
void lifecycle_params(const LifecycleSettings *s, const char *now, LifecycleParams *ret);
