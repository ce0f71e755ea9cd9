/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "reconcile.h"
#include "tenant.h"
#include "units.h"

#define ACTIVE_SQL "SELECT id FROM tenants WHERE status = 'active' ORDER BY id"
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

        if (error < 0 || !seen) {
                log_warning("Reconciliation cannot list units from systemd: %s", strerror(-error));
                return pass_free(p);
        }
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

void reconcile_run(Deployd *d) {
        Pass *p = calloc(1, sizeof *p);

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
