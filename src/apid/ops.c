/* SPDX-License-Identifier: MIT */
/* The operator's views: the deploy queue (org.tgfleet.Deploy1.ListTasks, Retry), statistics,
 * health and Prometheus metrics. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy-bus.h"
#include "json-util.h"
#include "log.h"
#include "request.h"

#define STATS_SQL \
        "SELECT jsonb_build_object(" \
        "  'clients', (SELECT jsonb_object_agg(s::text, coalesce(c.n, 0))" \
        "              FROM unnest(enum_range(NULL::tenant_status)) s" \
        "              LEFT JOIN (SELECT status, count(*) AS n FROM tenants GROUP BY status) c ON c.status = s)," \
        "  'deploys_today', (SELECT count(*) FROM tenant_audit WHERE at >= date_trunc('day', now())" \
        "                    AND action IN ('deploy', 'resume', 'redeploy') AND detail->>'status' = 'active')," \
        "  'failures_today', (SELECT count(*) FROM tenant_audit WHERE at >= date_trunc('day', now())" \
        "                     AND action = 'deploy_failed')," \
        "  'expiring_in_7_days', (SELECT count(*) FROM tenants WHERE status = 'active'" \
        "                         AND paid_until < now() + interval '7 days')," \
        "  'revenue_today', (SELECT coalesce(jsonb_object_agg(currency, minor_text(n)), '{}') FROM (SELECT currency," \
        "                    sum(amount_minor)::bigint AS n FROM subscription_payments WHERE status = 'succeeded'" \
        "                    AND paid_at >= date_trunc('day', now()) GROUP BY currency) r)," \
        "  'revenue_30_days', (SELECT coalesce(jsonb_object_agg(currency, minor_text(n)), '{}') FROM (SELECT currency," \
        "                      sum(amount_minor)::bigint AS n FROM subscription_payments WHERE status = 'succeeded'" \
        "                      AND paid_at >= now() - interval '30 days' GROUP BY currency) r)," \
        "  'new_clients_30_days', (SELECT count(*) FROM subscription_events WHERE to_status = 'succeeded'" \
        "                          AND deploy = 'deploy' AND at >= now() - interval '30 days')," \
        "  'renewals_30_days', (SELECT count(*) FROM subscription_events WHERE to_status = 'succeeded'" \
        "                       AND deploy IS DISTINCT FROM 'deploy' AND at >= now() - interval '30 days')," \
        "  'churned_30_days', (SELECT count(DISTINCT tenant_id) FROM subscription_notices WHERE kind = 'expired'" \
        "                      AND at >= now() - interval '30 days'))"
#define COUNTS_SQL \
        "SELECT s::text, (SELECT count(*) FROM tenants WHERE status = s) FROM unnest(enum_range(NULL::tenant_status)) s"

/* --- the queue ---------------------------------------------------------------------------------- */

static const char *const task_statuses[] = { "queued", "running", "retrying", "dead" };

/* Reads Deploy1's task list into {"tasks": [...], "counts": {...}}; NULL on a malformed reply. */
static json_object *tasks_object(sd_bus_message *m) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *tasks = json_object_new_array(), *counts = json_object_new_object();
        int64_t n[ELEMENTSOF(task_statuses)] = {};
        int r;

        json_object_object_add(o, "tasks", tasks);
        json_object_object_add(o, "counts", counts);
        r = sd_bus_message_enter_container(m, 'a', DEPLOY_TASK_SIGNATURE);
        if (r < 0)
                return NULL;
        for (;;) {
                const char *id, *action, *actor, *status, *error;
                int64_t tenant, updated;
                uint32_t attempts, position;
                json_object *t;

                r = sd_bus_message_read(m, DEPLOY_TASK_SIGNATURE, &id, &tenant, &action, &actor, &status, &attempts,
                                        &error, &updated, &position);
                if (r < 0)
                        return NULL;
                if (r == 0)
                        break;
                t = json_object_new_object();
                json_object_object_add(t, "id", json_object_new_string(id));
                json_object_object_add(t, "client_id", json_object_new_int64(tenant));
                json_object_object_add(t, "action", json_object_new_string(action));
                json_object_object_add(t, "actor", json_object_new_string(actor));
                json_object_object_add(t, "status", json_object_new_string(status));
                json_object_object_add(t, "attempts", json_object_new_int64(attempts));
                json_object_object_add(t, "error", *error ? json_object_new_string(error) : NULL);
                json_object_object_add(t, "updated_ms", json_object_new_int64(updated));
                json_object_object_add(t, "position", json_object_new_int64(position));
                json_object_array_add(tasks, t);
                for (size_t i = 0; i < ELEMENTSOF(task_statuses); i++)
                        if (streq(status, task_statuses[i]))
                                n[i]++;
        }
        for (size_t i = 0; i < ELEMENTSOF(task_statuses); i++)
                json_object_object_add(counts, task_statuses[i], json_object_new_int64(n[i]));
        return TAKE_PTR(o);
}

static int on_tasks(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        json_object *o;

        if (e) {
                request_reply_bus_error(q, e);
                return 0;
        }
        o = tasks_object(m);
        if (!o)
                request_reply_deployd_down(q);
        else
                request_reply_object(q, 200, o);
        return 0;
}

void ops_queue(Request *q) {
        if (sd_bus_call_method_async(q->apid->daemon.bus, NULL, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE,
                                     "ListTasks", on_tasks, q, "") < 0)
                request_reply_deployd_down(q);
}

static int on_retried(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t position;
        json_object *o, *t;

        if (e) {
                if (sd_bus_error_has_name(e, DEPLOY_ERROR_NO_SUCH_TASK))
                        request_reply_error(q, 404, "not_found", "No such dead-lettered task.");
                else
                        request_reply_bus_error(q, e);
                return 0;
        }
        if (sd_bus_message_read(m, "u", &position) < 0) {
                request_reply_deployd_down(q);
                return 0;
        }
        o = json_object_new_object();
        t = json_object_new_object();
        json_object_object_add(t, "id", json_object_new_string(q->handler_data));
        json_object_object_add(t, "position", json_object_new_int64(position));
        json_object_object_add(o, "task", t);
        request_reply_object(q, 202, o);
        return 0;
}

void ops_retry(Request *q, const char *task) {
        q->handler_data = strdup(task);
        if (!q->handler_data)
                return request_reply_error(q, 503, "out_of_memory", "Out of memory.");
        if (sd_bus_call_method_async(q->apid->daemon.bus, NULL, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE,
                                     "Retry", on_retried, q, "s", task) < 0)
                request_reply_deployd_down(q);
}

/* --- statistics, health, metrics ------------------------------------------------------------------ */

void ops_stats(Request *q) {
        (void) request_query_json(q, 200, STATS_SQL, 0, NULL);
}

static void on_health(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;

        if (pg_result_to_errno(res) < 0)
                return request_reply_error(q, 503, "database_unavailable", "The database does not answer.");
        request_reply_json(q, 200, "{\"status\":\"ok\"}");
}

void ops_health(Request *q) {
        if (pg_query(q->apid->daemon.pg, "SELECT 1", 0, NULL, on_health, q) < 0)
                request_reply_error(q, 503, "database_unavailable", "The database is not connected.");
}

static void on_counts(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;
        const Apid *a = q->apid;
        char buf[4096];
        size_t n = 0;

#define APPEND(...) n += (size_t) snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, __VA_ARGS__)
        APPEND("# HELP tgfleet_api_requests_total API requests answered, by status class.\n"
               "# TYPE tgfleet_api_requests_total counter\n");
        for (unsigned k = 1; k <= 5; k++)
                APPEND("tgfleet_api_requests_total{code=\"%uxx\"} %" PRIu64 "\n", k, a->stats.by_class[k]);
        APPEND("# HELP tgfleet_api_unauthorized_total Requests refused for a missing or wrong bearer token.\n"
               "# TYPE tgfleet_api_unauthorized_total counter\n"
               "tgfleet_api_unauthorized_total %" PRIu64 "\n", a->stats.unauthorized);
        APPEND("# HELP tgfleet_api_tasks_queued_total Deploy tasks queued through the API.\n"
               "# TYPE tgfleet_api_tasks_queued_total counter\n"
               "tgfleet_api_tasks_queued_total %" PRIu64 "\n", a->stats.deploys_queued);
        APPEND("# HELP tgfleet_database_up Whether the database answered this scrape.\n"
               "# TYPE tgfleet_database_up gauge\n"
               "tgfleet_database_up %d\n", pg_result_to_errno(res) >= 0);
        if (pg_result_to_errno(res) >= 0) {
                APPEND("# HELP tgfleet_clients Clients by status.\n# TYPE tgfleet_clients gauge\n");
                for (int i = 0; i < PQntuples(res); i++)
                        APPEND("tgfleet_clients{status=\"%s\"} %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        }
#undef APPEND
        request_reply(q, 200, "text/plain; version=0.0.4", buf);
}

void ops_metrics(Request *q) {
        if (pg_query(q->apid->daemon.pg, COUNTS_SQL, 0, NULL, on_counts, q) < 0)
                on_counts(q->apid->daemon.pg, NULL, q);
}
