/* SPDX-License-Identifier: MIT */
#include "lifecycle.h"
#include "log.h"
#include "events.h"

static void on_run(Pg *pg, const PGresult *res, void *userdata) {
        Paymentd *p = userdata;

        p->lifecycle_running = false;
        if (pg_result_to_errno(res) < 0) {
                log_warning("The subscription lifecycle could not run: %s", res ? PQresultErrorMessage(res) : "connection lost");
                return;
        }
        for (int i = 0; i < PQntuples(res); i++)
                log_info("Subscription lifecycle: %s for client %s.", PQgetvalue(res, i, 2), PQgetvalue(res, i, 1));
        if (PQntuples(res) > 0)
                outbox_kick(p->notice_outbox);
        /* The renewals made now, those tgfleetctl made, and those whose charge failed on the way. */
        renewals_run(p);
}

void lifecycle_run(Paymentd *p) {
        LifecycleParams params;

        if (!p->lifecycle_loaded || p->lifecycle_running || p->daemon.stopping)
                return;
        lifecycle_params(&p->lifecycle, "now", &params);
        if (pg_query(p->daemon.pg, LIFECYCLE_SQL, LIFECYCLE_N_PARAMS, params.values, on_run, p) >= 0)
                p->lifecycle_running = true;
}

static void on_timer(void *userdata) {
        Paymentd *p = userdata;

        if (p->daemon.ready)
                lifecycle_run(p);
}

/* Another session made renewals (the payload names the table subscription_payments) or notices
 * (subscription_notices). */
static void on_wake(Pg *pg, const char *payload, void *userdata) {
        Paymentd *p = userdata;

        if (!p->daemon.ready)
                return;   /* on_ready() runs both */
        if (streq(payload, "subscription_notices"))
                outbox_kick(p->notice_outbox);
        else
                renewals_run(p);
}

int lifecycle_start(Paymentd *p) {
        int r = pg_listen(p->daemon.pg, "tgfleet_subscriptions", on_wake, p);

        if (r < 0)
                return r;
        return daemon_add_periodic_setting(p->daemon.event, &p->lifecycle_timer, &p->daemon.config.subscriptions_interval_usec,
                                           USEC_PER_SEC, on_timer, p);
}
