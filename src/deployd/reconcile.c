/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "reconcile.h"
#include "tenant.h"
#include "tokens.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR, closedir);
#include "units.h"

#define ACTIVE_SQL "SELECT id FROM tenants WHERE status = 'active' ORDER BY id"
#define EXPIRE_SQL "SELECT tenant_expire_pending($1)"
#define REMOVED_SQL "SELECT id FROM tenants WHERE id = ANY($1::bigint[]) AND status = 'removed'"
#define UNIT_PATTERN "tgfleet-bot@*.service"

typedef struct Pass {
        Deployd *d;
        int64_t *busy, *active;      /* sorted */
        size_t n_busy, n_active;
} Pass;

static void pass_free(Pass *p) {
        free(p->busy);
        free(p->active);
        free(p);
}

static int cmp_id(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return (x > y) - (x < y);
}

static bool has(const int64_t *ids, size_t n, int64_t id) {
        return n > 0 && bsearch(&id, ids, n, sizeof id, cmp_id);
}

static void on_fixed(int error, const char *what, void *userdata) {
        char *unit = userdata;

        if (error < 0)
                log_warning("Reconciliation could not fix %s: %s", unit, what);
        free(unit);
}

static void fix(Deployd *d, const char *method, int64_t tenant, const char *why) {
        char unit[96];
        char *copy;

        tenant_unit_name(tenant, unit, sizeof unit);
        copy = strdup(unit);
        if (!copy)
                return;
        log_notice("Reconciliation: %s %s (%s).",
                   streq(method, "StartUnit") ? "starting" : "stopping", unit, why);
        d->stats.reconciled++;
        if (units_job(d->units, method, unit, d->daemon.config.deploy_unit_timeout_usec, on_fixed, copy) < 0)
                free(copy);
}

static bool running(const char *state) {
        return streq(state, "active") || streq(state, "activating") || streq(state, "reloading");
}

static void on_units(int error, const UnitState *units, size_t n, void *userdata) {
        Pass *p = userdata;
        Deployd *d = p->d;
        _cleanup_free_ bool *seen = calloc(p->n_active + 1, sizeof *seen);

        if (error < 0) {
                /* Said once per cause, not at every pass (run-local has no systemd at all). */
                if (error != d->units_error)
                        log_warning("Reconciliation cannot list units from systemd: %s; it keeps trying.",
                                    strerror(-error));
                d->units_error = error;
                return pass_free(p);
        }
        if (d->units_error < 0)
                log_notice("Reconciliation lists units from systemd again.");
        d->units_error = 0;
        if (!seen)
                return pass_free(p);
        for (size_t i = 0; i < n; i++) {
                int64_t tenant;
                char id[32];
                if (sscanf(units[i].name, "tgfleet-bot@%31[^.].service", id) != 1 || tenant_id_parse(id, &tenant) < 0 ||
                    has(p->busy, p->n_busy, tenant))
                        continue;
                int64_t *a = p->n_active ? bsearch(&tenant, p->active, p->n_active, sizeof tenant, cmp_id) : NULL;
                if (a && running(units[i].active_state))
                        seen[a - p->active] = true;
                else if (!a && running(units[i].active_state))
                        fix(d, "StopUnit", tenant, "its tenant is not active");
        }
        for (size_t i = 0; i < p->n_active; i++)
                if (!seen[i] && !has(p->busy, p->n_busy, p->active[i]))
                        fix(d, "StartUnit", p->active[i], "its tenant is active");
        pass_free(p);
}

static void on_active(Pg *pg, const PGresult *res, void *userdata) {
        Pass *p = userdata;

        if (pg_result_to_errno(res) < 0 || p->d->daemon.stopping)
                return pass_free(p);
        p->n_active = (size_t) PQntuples(res);
        p->active = calloc(p->n_active + 1, sizeof *p->active);
        if (!p->active)
                return pass_free(p);
        for (size_t i = 0; i < p->n_active; i++)
                p->active[i] = strtoll(PQgetvalue(res, (int) i, 0), NULL, 10);
        if (units_list(p->d->units, UNIT_PATTERN, on_units, p) < 0)
                pass_free(p);
}

static void on_busy(int error, const int64_t *tenants, size_t n, void *userdata) {
        Pass *p = userdata;

        if (error < 0 || p->d->daemon.stopping)
                return pass_free(p);
        p->busy = calloc(n + 1, sizeof *p->busy);
        if (!p->busy)
                return pass_free(p);
        if (n > 0)
                memcpy(p->busy, tenants, n * sizeof *tenants);
        p->n_busy = n;
        qsort(p->busy, n, sizeof *p->busy, cmp_id);
        if (pg_query(p->d->daemon.pg, ACTIVE_SQL, 0, NULL, on_active, p) < 0)
                pass_free(p);
}

/* --- unpaid sales clients --------------------------------------------------------------------- */

static void on_removed_tokens(Pg *pg, const PGresult *res, void *userdata) {
        Deployd *d = userdata;

        if (pg_result_to_errno(res) < 0)
                return;
        for (int i = 0; i < PQntuples(res); i++) {
                int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
                int r = token_remove(d->daemon.config.deploy_token_dir, id);
                if (r < 0)
                        log_warning_errno(r, "Cannot delete the token of removed client %" PRId64 ": %m", id);
                else
                        log_info("Token of removed client %" PRId64 " deleted.", id);
        }
}

/* Asks which of the tenants with a token file are removed, and deletes their tokens: those of the
 * clients just expired, and any a crash left behind. */
static void sweep_tokens(Deployd *d) {
        _cleanup_(closedirp) DIR *dir = opendir(d->daemon.config.deploy_token_dir);
        _cleanup_free_ char *ids = NULL;
        size_t len = 0, size = 0;
        struct dirent *de;
        int64_t id;

        if (!dir)
                return;
        while ((de = readdir(dir))) {
                if (tenant_id_parse(de->d_name, &id) < 0)
                        continue;
                if (len + 24 >= size) {
                        char *n = realloc(ids, size = size * 2 + 256);
                        if (!n)
                                return;
                        ids = n;
                }
                len += (size_t) snprintf(ids + len, size - len, "%s%" PRId64, len ? "," : "{", id);
        }
        if (!ids)
                return;
        snprintf(ids + len, size - len, "}");
        const char *params[] = { ids };
        (void) pg_query(d->daemon.pg, REMOVED_SQL, 1, params, on_removed_tokens, d);
}

static void on_expired(Pg *pg, const PGresult *res, void *userdata) {
        Deployd *d = userdata;

        if (pg_result_to_errno(res) < 0) {
                log_warning("Cannot expire unpaid clients: %s", res ? PQresultErrorMessage(res) : "connection lost");
                return;
        }
        for (int i = 0; i < PQntuples(res); i++)
                log_notice("Client %s was never paid and is removed.", PQgetvalue(res, i, 0));
        sweep_tokens(d);
}

static void expire_pending(Deployd *d) {
        const char *params[] = { d->actor };
        (void) pg_query(d->daemon.pg, EXPIRE_SQL, 1, params, on_expired, d);
}

void reconcile_run(Deployd *d) {
        Pass *p = calloc(1, sizeof *p);

        expire_pending(d);
        if (!p)
                return;
        p->d = d;
        if (queue_open_tenants(d, on_busy, p) < 0)
                pass_free(p);
}

static void on_timer(void *userdata) {
        Deployd *d = userdata;

        if (d->daemon.ready)
                reconcile_run(d);
}

int reconcile_start(Deployd *d) {
        return daemon_add_periodic_setting(d->daemon.event, &d->reconcile_timer,
                                           &d->daemon.config.deploy_reconcile_interval_usec, USEC_PER_SEC, on_timer, d);
}
