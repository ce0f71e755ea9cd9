/* SPDX-License-Identifier: MIT */
#pragma once

/* The subscription lifecycle's settings ([Subscriptions]) and the one call that runs it,
 * subscription_lifecycle() of migrations/0014_lifecycle.sql, as tgfleet-paymentd (every
 * IntervalSec) and tgfleetctl subscriptions run (once, at any moment) make it. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define LIFECYCLE_REMIND_MAX 8
#define LIFECYCLE_WARN_SEC (3 * 24 * 3600)   /* the last warning, before the removal */

typedef struct LifecycleSettings {
        int64_t remind_sec[LIFECYCLE_REMIND_MAX];
        size_t n_remind;
        int64_t grace_sec, remove_sec, warn_sec;
} LifecycleSettings;

/* The SQL: its parameters are lifecycle_params()'s; each row a notice made (id, client, kind). */
#define LIFECYCLE_SQL \
        "SELECT id, tenant_id, kind, before_sec FROM subscription_lifecycle($1::timestamptz, $2::integer[], $3, $4, $5)"

/* Reads the settings of @c. Returns 0, or -EINVAL when RemindBefore= is not a list of 0 to
 * LIFECYCLE_REMIND_MAX durations ("72h", "3d", "90m", "600s") of at most a year. */
int lifecycle_settings_load(const Config *c, LifecycleSettings *ret);

/* The texts of LIFECYCLE_SQL's parameters for a run at @now ("now", or an ISO time), in @buf. */
typedef struct LifecycleParams {
        char remind[LIFECYCLE_REMIND_MAX * 12 + 3], grace[24], remove[24], warn[24];
        const char *values[5];
} LifecycleParams;
void lifecycle_params(const LifecycleSettings *s, const char *now, LifecycleParams *ret);
