/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "units.h"

#define SYSTEMD "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define MANAGER SYSTEMD ".Manager"
#define ENDED_MAX 64

typedef struct Job {
        struct Job *next;
        Units *u;
        char *path;              /* NULL until the method's reply */
        bool stop;
        UnitJobFn cb;
        void *userdata;
        sd_event_source *timer;
        sd_bus_slot *call;
} Job;

/* Jobs whose JobRemoved came before the reply naming them. */
typedef struct Ended {
        char path[128];
        char result[32];
} Ended;

struct Units {
        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *match;
        Job *jobs;
        Ended ended[ENDED_MAX];
        unsigned ended_next;
};

static void job_finish(Job *j, int error, const char *what) {
        Units *u = j->u;

        for (Job **p = &u->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        sd_event_source_disable_unref(j->timer);
        sd_bus_slot_unref(j->call);
        j->cb(error, what, j->userdata);
        free(j->path);
        free(j);
}

static void job_result(Job *j, const char *result) {
        char what[96];

        snprintf(what, sizeof what, "job %s", result);
        job_finish(j, streq(result, "done") ? 0 : streq(result, "timeout") ? -ETIMEDOUT : -EIO, what);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Units *u = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        for (Job *j = u->jobs; j; j = j->next)
                if (j->path && streq(j->path, path)) {
                        job_result(j, result);
                        return 0;
                }
        Ended *e = &u->ended[u->ended_next++ % ENDED_MAX];
        snprintf(e->path, sizeof e->path, "%s", path);
        snprintf(e->result, sizeof e->result, "%s", result);
        return 0;
}

static int on_job_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Job *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *path;
        char what[512];

        j->call = sd_bus_slot_unref(j->call);
        if (e) {
                /* Stopping a unit systemd does not know: it is stopped. */
                if (j->stop && sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit")) {
                        job_finish(j, 0, "not loaded");
                        return 0;
                }
                snprintf(what, sizeof what, "%s: %s", e->name, strempty(e->message));
                job_finish(j, -sd_bus_error_get_errno(e) ?: -EIO, what);
                return 0;
        }
        if (sd_bus_message_read(m, "o", &path) < 0) {
                job_finish(j, -EIO, "malformed reply from systemd");
                return 0;
        }
        for (unsigned i = 0; i < ENDED_MAX; i++)
                if (streq(j->u->ended[i].path, path)) {
                        j->u->ended[i].path[0] = 0;
                        job_result(j, j->u->ended[i].result);
                        return 0;
                }
        j->path = strdup(path);
        if (!j->path)
                job_finish(j, -ENOMEM, "out of memory");
        return 0;
}

static int on_job_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        job_finish(userdata, -ETIMEDOUT, "timed out waiting for systemd");
        return 0;
}

int units_job(Units *u, const char *method, const char *unit, uint64_t timeout_usec, UnitJobFn cb, void *userdata) {
        Job *j = calloc(1, sizeof *j);
        int r;

        if (!j)
                return -ENOMEM;
        *j = (Job) { .u = u, .stop = streq(method, "StopUnit"), .cb = cb, .userdata = userdata };
        r = sd_event_add_time_relative(u->event, &j->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_job_timeout, j);
        if (r >= 0)
                r = sd_bus_call_method_async(u->bus, &j->call, SYSTEMD, SYSTEMD_PATH, MANAGER, method, on_job_reply, j,
                                             "ss", unit, "replace");
        if (r < 0) {
                sd_event_source_disable_unref(j->timer);
                free(j);
                return r;
        }
        j->next = u->jobs;
        u->jobs = j;
        return 0;
}

typedef struct ListCall {
        UnitListFn cb;
        void *userdata;
} ListCall;

static int on_list_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_free_ ListCall *c = userdata;
        _cleanup_free_ UnitState *units = NULL;
        size_t n = 0, allocated = 0;
        const char *name, *active;
        int r;

        if (sd_bus_message_is_method_error(m, NULL)) {
                c->cb(-sd_bus_error_get_errno(sd_bus_message_get_error(m)) ?: -EIO, NULL, 0, c->userdata);
                return 0;
        }
        r = sd_bus_message_enter_container(m, 'a', "(ssssssouso)");
        while (r > 0) {
                r = sd_bus_message_read(m, "(ssssssouso)", &name, NULL, NULL, &active, NULL, NULL, NULL, NULL, NULL,
                                        NULL);
                if (r <= 0)
                        break;
                if (n == allocated) {
                        UnitState *grown = reallocarray(units, allocated * 2 + 16, sizeof *units);
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        units = grown;
                        allocated = allocated * 2 + 16;
                }
                units[n++] = (UnitState) { name, active };
        }
        c->cb(r < 0 ? r : 0, units, n, c->userdata);
        return 0;
}

int units_list(Units *u, const char *pattern, UnitListFn cb, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        ListCall *c = malloc(sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        *c = (ListCall) { cb, userdata };
        r = sd_bus_message_new_method_call(u->bus, &m, SYSTEMD, SYSTEMD_PATH, MANAGER, "ListUnitsByPatterns");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char *[]) { NULL });
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char *[]) { (char *) pattern, NULL });
        if (r >= 0)
                r = sd_bus_call_async(u->bus, NULL, m, on_list_reply, c, 0);
        if (r < 0)
                free(c);
        return r;
}

int units_new(sd_event *e, sd_bus *bus, Units **ret) {
        Units *u = calloc(1, sizeof *u);
        int r;

        if (!u)
                return -ENOMEM;
        u->event = sd_event_ref(e);
        u->bus = sd_bus_ref(bus);
        r = sd_bus_match_signal_async(bus, &u->match, SYSTEMD, SYSTEMD_PATH, MANAGER, "JobRemoved", on_job_removed,
                                      NULL, u);
        if (r < 0) {
                units_free(u);
                return r;
        }
        /* systemd sends job signals once someone subscribed. Without systemd this fails; every
         * job then fails too, with the reason. */
        (void) sd_bus_call_method_async(bus, NULL, SYSTEMD, SYSTEMD_PATH, MANAGER, "Subscribe", NULL, NULL, NULL);
        *ret = u;
        return 0;
}

Units *units_free(Units *u) {
        if (!u)
                return NULL;
        while (u->jobs)
                job_finish(u->jobs, -ECANCELED, "shutting down");
        sd_bus_slot_unref(u->match);
        sd_bus_unref(u->bus);
        sd_event_unref(u->event);
        free(u);
        return NULL;
}
