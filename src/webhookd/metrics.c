/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>

#include "macro.h"
#include "metrics.h"

/* The statuses webhookd answers with; anything else is counted under "other". */
static const unsigned statuses[] = { 200, 400, 401, 403, 404, 405, 413, 415, 500, 503 };

/* Upper bounds of the enqueue latency buckets, in µs. */
static const uint64_t bucket_usec[METRICS_N_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

void metrics_count_request(Metrics *m, RouteId route, unsigned status) {
        size_t i;

        for (i = 0; i < ELEMENTSOF(statuses); i++)
                if (statuses[i] == status)
                        break;
        m->requests_by_status[route][i]++;
}

void metrics_count_reject(Metrics *m, Reject reason) {
        m->rejects[reason]++;
}

void metrics_observe_enqueue(Metrics *m, uint64_t usec) {
        size_t i;

        for (i = 0; i < METRICS_N_BUCKETS && usec > bucket_usec[i]; i++)
                ;
        m->enqueue_buckets[i]++;
        m->enqueue_count++;
        m->enqueue_sum_usec += usec;
}

int metrics_render(const Metrics *m, bool redis_up, bool db_up, struct printbuf *pb) {
        uint64_t cumulative = 0;
        int r = 0;

#define OUT(...) do { if (sprintbuf(pb, __VA_ARGS__) < 0) return -ENOMEM; } while (0)
        OUT("# HELP tgfleet_webhook_requests_total Requests answered, by route and status.\n"
            "# TYPE tgfleet_webhook_requests_total counter\n");
        for (int route = 0; route < _ROUTE_MAX; route++)
                for (size_t i = 0; i <= ELEMENTSOF(statuses); i++) {
                        uint64_t v = m->requests_by_status[route][i];
                        if (v == 0)
                                continue;
                        if (i < ELEMENTSOF(statuses))
                                OUT("tgfleet_webhook_requests_total{route=\"%s\",status=\"%u\"} %" PRIu64 "\n",
                                    route_to_string(route), statuses[i], v);
                        else
                                OUT("tgfleet_webhook_requests_total{route=\"%s\",status=\"other\"} %" PRIu64 "\n",
                                    route_to_string(route), v);
                }
        OUT("# HELP tgfleet_webhook_rejects_total Requests refused, by reason.\n"
            "# TYPE tgfleet_webhook_rejects_total counter\n");
        for (int i = 1; i < _REJECT_MAX; i++)
                OUT("tgfleet_webhook_rejects_total{reason=\"%s\"} %" PRIu64 "\n", reject_to_string(i), m->rejects[i]);
        OUT("# HELP tgfleet_webhook_accepted_total Events written to a stream.\n"
            "# TYPE tgfleet_webhook_accepted_total counter\n"
            "tgfleet_webhook_accepted_total %" PRIu64 "\n", m->accepted);
        OUT("# HELP tgfleet_webhook_duplicates_total Events answered 200 that were already enqueued.\n"
            "# TYPE tgfleet_webhook_duplicates_total counter\n"
            "tgfleet_webhook_duplicates_total %" PRIu64 "\n", m->duplicates);
        OUT("# HELP tgfleet_webhook_enqueue_seconds Time from a complete body to Redis' answer.\n"
            "# TYPE tgfleet_webhook_enqueue_seconds histogram\n");
        for (size_t i = 0; i < METRICS_N_BUCKETS; i++) {
                cumulative += m->enqueue_buckets[i];
                OUT("tgfleet_webhook_enqueue_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                    (double) bucket_usec[i] / 1e6, cumulative);
        }
        OUT("tgfleet_webhook_enqueue_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", m->enqueue_count);
        OUT("tgfleet_webhook_enqueue_seconds_sum %" PRIu64 ".%06" PRIu64 "\n",
            m->enqueue_sum_usec / USEC_PER_SEC, m->enqueue_sum_usec % USEC_PER_SEC);
        OUT("tgfleet_webhook_enqueue_seconds_count %" PRIu64 "\n", m->enqueue_count);
        OUT("# HELP tgfleet_up Whether a dependency is reachable (1) or not (0).\n"
            "# TYPE tgfleet_up gauge\n"
            "tgfleet_up{dependency=\"redis\"} %d\n"
            "tgfleet_up{dependency=\"database\"} %d\n", redis_up, db_up);
#undef OUT
        return r;
}
