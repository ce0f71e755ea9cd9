/* SPDX-License-Identifier: MIT */
#pragma once

/* webhookd's counters and the Prometheus text rendering of them. */

#include <json-c/printbuf.h>
#include <stdint.h>

#include "route.h"

#define METRICS_N_BUCKETS 12

typedef struct Metrics {
        uint64_t requests_by_status[_ROUTE_MAX][11]; /* by route and status, see metrics.c */
        uint64_t rejects[_REJECT_MAX];
        uint64_t accepted;                  /* new entries written to a stream */
        uint64_t duplicates;                /* answered 200, already in a stream */
        uint64_t enqueue_buckets[METRICS_N_BUCKETS + 1];  /* cumulative at render time */
        uint64_t enqueue_count;
        uint64_t enqueue_sum_usec;
} Metrics;

/* Counts one answered request. */
void metrics_count_request(Metrics *m, RouteId route, unsigned status);

/* Counts one rejection. */
void metrics_count_reject(Metrics *m, Reject reason);

/* Records the time from a complete body to Redis' answer. */
void metrics_observe_enqueue(Metrics *m, uint64_t usec);

/* Appends the Prometheus text exposition (format 0.0.4) to @pb. Returns 0 or -ENOMEM. */
int metrics_render(const Metrics *m, bool redis_up, bool db_up, struct printbuf *pb);
