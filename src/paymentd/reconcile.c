/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "reconcile.h"

/* Open orders, and cancelled ones whose invoice can still be paid at Heleket. */
#define OPEN_SQL                                                                                \
        "(SELECT public_id, now() >= expires_at FROM orders "                                   \
        "WHERE status IN ('pending', 'wrong_amount') AND created_at <= now() - make_interval(secs => $1::bigint / 1000.0) " \
        "ORDER BY created_at LIMIT 100) UNION ALL "                                             \
        "(SELECT public_id, false FROM orders WHERE status = 'cancelled' AND expires_at > now() " \
        "ORDER BY expires_at LIMIT 100)"

/* Subscription payments YooKassa has an id for and that are still open (a lost notification). */
#define SUBSCRIPTIONS_SQL                                                                       \
        "SELECT provider_id FROM subscription_payments WHERE status = 'pending' "               \
        "AND created_at <= now() - make_interval(secs => $1::bigint / 1000.0) ORDER BY created_at LIMIT 100"

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

static void on_open_subscriptions(Pg *pg, const PGresult *res, void *userdata) {
        Paymentd *p = userdata;

        if (pg_result_to_errno(res) < 0 || p->daemon.stopping || !p->yookassa)
                return;
        for (int i = 0; i < PQntuples(res); i++)
                (void) subscription_confirm(p, PQgetvalue(res, i, 0), "reconcile", false, on_confirmed, NULL);
        if (PQntuples(res) > 0)
                log_debug("Reconciling %d open subscription payments.", PQntuples(res));
}

void reconcile_run(Paymentd *p) {
        char after[32];
        const char *params[] = { after };

        snprintf(after, sizeof after, "%" PRIu64, p->daemon.config.payments_reconcile_after_usec / USEC_PER_MSEC);
        (void) pg_query(p->daemon.pg, OPEN_SQL, 1, params, on_open, p);
        if (p->yookassa)
                (void) pg_query(p->daemon.pg, SUBSCRIPTIONS_SQL, 1, params, on_open_subscriptions, p);
}

static void on_timer(void *userdata) {
        Paymentd *p = userdata;

        if (p->daemon.ready)
                reconcile_run(p);
}

int reconcile_start(Paymentd *p) {
        return daemon_add_periodic_setting(p->daemon.event, &p->reconcile_timer,
                                           &p->daemon.config.payments_reconcile_interval_usec, USEC_PER_SEC / 10, on_timer,
                                           p);
}
