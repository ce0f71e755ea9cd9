/* SPDX-License-Identifier: MIT */
/* tgfleetctl subscriptions run: one run of the subscription lifecycle, as tgfleet-paymentd makes
 * every [Subscriptions] IntervalSec, at another moment when asked (--now=, for a test or to catch
 * up). What it decides is recorded once in the database; paymentd tells the owners and queues the
 * tasks. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "log.h"
#include "subscription-lifecycle.h"

const char subscriptions_usage[] =
        "Usage: tgfleetctl subscriptions run [--now=TIME]\n"
        "Runs the subscription lifecycle once: the renewals of clients that renew automatically,\n"
        "reminders before a client's paid time ends, its suspension when it has, the last warning\n"
        "and the removal. Each step is made once, whoever runs it how often; tgfleet-paymentd\n"
        "charges the renewals, tells the owners and queues the tasks. TIME is what PostgreSQL reads\n"
        "as a timestamptz (\"2027-01-31 12:00+03\"); default: now.\n";

int verb_subscriptions(const Config *c, int argc, char *argv[]) {
        static const struct option options[] = { { "now", required_argument, NULL, 'n' }, {} };
        _cleanup_(PQfinishp) PGconn *conn = NULL;
        _cleanup_(PQclearp) PGresult *res = NULL;
        const char *now = "now";
        LifecycleSettings s;
        LifecycleParams params;
        int o;

        optind = 0;   /* a fresh scan, permuting: "run --now=T" or "--now=T run" */
        while ((o = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (o != 'n') {
                        fputs(subscriptions_usage, stderr);
                        return 2;
                }
                now = optarg;
        }
        if (optind != argc - 1 || !streq(argv[optind], "run")) {
                fputs(subscriptions_usage, stderr);
                return 2;
        }
        if (lifecycle_settings_load(c, &s) < 0) {
                log_error("[Subscriptions] RemindBefore= must list durations such as 72h 24h, RenewBefore= be one.");
                return 1;
        }
        conn = ctl_pg_connect(c);
        if (!conn)
                return 1;
        lifecycle_params(&s, now, &params);
        res = PQexecParams(conn, LIFECYCLE_SQL, LIFECYCLE_N_PARAMS, NULL, params.values, NULL, NULL, 0);
        if (pg_result_to_errno(res) < 0) {
                log_error("The lifecycle run failed: %s", PQresultErrorMessage(res));
                return 1;
        }
        for (int i = 0; i < PQntuples(res); i++) {
                const char *kind = PQgetvalue(res, i, 2);
                if (streq(kind, "renew"))
                        printf("client %s: renewal %s made, charged to the saved method by tgfleet-paymentd\n",
                               PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
                else if (streq(kind, "remind"))
                        printf("client %s: reminded, %ld h before its paid time ends\n", PQgetvalue(res, i, 1),
                               strtol(PQgetvalue(res, i, 3), NULL, 10) / 3600);
                else
                        printf("client %s: %s\n", PQgetvalue(res, i, 1),
                               streq(kind, "expired") ? "paid time over, suspended" :
                               streq(kind, "last_warning") ? "warned of its removal" : "removed");
        }
        if (PQntuples(res) == 0)
                puts("Nothing is due.");
        return 0;
}
