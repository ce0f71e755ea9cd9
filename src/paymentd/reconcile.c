/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "reconcile.h"

#define OPEN_SQL                                                                                \
        "SELECT public_id, now() >= expires_at FROM orders "                                    \
        "WHERE status IN ('pending', 'wrong_amount') AND created_at <= now() - make_interval(secs => $1::bigint / 1000.0) " \
        "ORDER BY created_at LIMIT 100"

static void on_confirmed(int error, const char *status, bool changed, void *userdata) {
        /* confirm.c logs what matters; a failed order is simply asked about again next time. */
}

static void on_open(Pg *pg, const PGresult *res, void *userdata) {
        Paymentd *p = userdata;

        if (pg_result_to_errno(res) < 0 || p->daemon.stopping)
                return;
        for (int i = 0; i < PQntuples(res); i++)
                (void) payment_confirm(p, NULL, PQgetvalue(res, i, 0), "reconcile", PQgetvalue(res, i, 1)[0] == 't',
                                       on_confirmed, NULL);
        if (PQntuples(res) > 0)
                log_debug("Reconciling %d open orders.", PQntuples(res));
}

void reconcile_run(Paymentd *p) {
        char after[32];
        const char *params[] = { after };

        snprintf(after, sizeof after, "%" PRIu64, p->daemon.config.payments_reconcile_after_usec / USEC_PER_MSEC);
        (void) pg_query(p->daemon.pg, OPEN_SQL, 1, params, on_open, p);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Paymentd *p = userdata;

        if (p->daemon.ready)
                reconcile_run(p);
        (void) sd_event_source_set_time(s, usec + MAX(p->daemon.config.payments_reconcile_interval_usec, USEC_PER_SEC / 10));
        return 0;
}

int reconcile_start(Paymentd *p) {
        int r = sd_event_add_time_relative(p->daemon.event, &p->reconcile_timer, CLOCK_MONOTONIC,
                                           MAX(p->daemon.config.payments_reconcile_interval_usec, USEC_PER_SEC / 10), 0,
                                           on_timer, p);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(p->reconcile_timer, SD_EVENT_ON);
}
