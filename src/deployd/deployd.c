/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "queue.h"
#include "reconcile.h"
#include "units.h"
#include "worker.h"

#define SECRET_MAX 4096

static void status(Daemon *dm, char *buf, size_t size) {
        Deployd *d = dm->opts.userdata;

        snprintf(buf, size, "Tasks done %" PRIu64 ", retried %" PRIu64 ", dead-lettered %" PRIu64
                 "; units fixed by reconciliation %" PRIu64 "; Redis %s",
                 d->stats.done, d->stats.retried, d->stats.dead, d->stats.reconciled,
                 redis_is_up(dm->redis) ? "up" : "down");
}

/* Every second: due retries go back on the queue. */
static void on_promote_timer(void *userdata) {
        Deployd *d = userdata;

        if (d->daemon.ready)
                queue_promote_due(d);
}

static int on_ready(Daemon *dm) {
        reconcile_run(dm->opts.userdata);
        return 0;
}

static int read_webhook_key(const Config *c, Secret **ret) {
        int r = creds_read("webhook-key", SECRET_MAX, ret);

        if (r < 0)
                return log_error_errno(r, "Cannot read credential webhook-key: %m");
        if (access(c->deploy_token_dir, W_OK) < 0)
                return log_error_errno(errno, "[Deploy] TokenDirectory=%s is not writable: %m", c->deploy_token_dir);
        return 0;
}

/* SIGHUP: the webhook key (new webhooks are set with secrets derived from it). */
static int reload(Daemon *dm, const Config *next) {
        Deployd *d = dm->opts.userdata;
        Secret *key = NULL;
        int r = read_webhook_key(next, &key);

        if (r < 0)
                return r;
        secret_free(d->webhook_key);
        d->webhook_key = key;
        return 0;
}

static int setup(Deployd *d, const DaemonArgs *args) {
        Daemon *dm = &d->daemon;
        int r;

        r = daemon_open(dm, &(DaemonOptions) {
                .name = "deployd", .config_path = args->config_path, .consumer = args->consumer,
                .redis = true, .redis_blocking = 1, .database = true, .schema = true, .http_client = true,
                .system_bus = true,
                .ready_on = DAEMON_READY_ON_REDIS, .on_ready = on_ready, .status = status, .reload = reload,
                .userdata = d,
        });
        if (r < 0)
                return r;
        r = read_webhook_key(&dm->config, &d->webhook_key);
        if (r < 0)
                return r;
        snprintf(d->actor, sizeof d->actor, "deployd@%s", dm->consumer);
        r = bus_setup(d);
        if (r < 0)
                return log_error_errno(r, "Cannot publish org.tgfleet.Deploy1 on the system bus: %m");
        r = units_new(dm->event, dm->bus, &d->units);
        if (r < 0)
                return log_error_errno(r, "Cannot watch systemd's jobs: %m");
        r = worker_new(d, &d->worker);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the deploy worker: %m");
        r = reconcile_start(d);
        if (r < 0)
                return log_error_errno(r, "Cannot start reconciliation: %m");
        r = daemon_add_periodic(dm->event, &d->promote_timer, USEC_PER_SEC, on_promote_timer, d);
        if (r < 0)
                return log_error_errno(r, "Cannot add the retry timer: %m");
        return 0;
}

static void teardown(Deployd *d) {
        d->units = units_free(d->units);
        daemon_close_io(&d->daemon);   /* calls under way end through their callbacks */
        d->worker = worker_free(d->worker);
        d->reconcile_timer = sd_event_source_disable_unref(d->reconcile_timer);
        d->promote_timer = sd_event_source_disable_unref(d->promote_timer);
        daemon_close(&d->daemon);
        d->webhook_key = secret_free(d->webhook_key);
}

int deployd_run(const DaemonArgs *args) {
        Deployd d = {};
        int r;

        r = setup(&d, args);
        if (r >= 0)
                r = daemon_run(&d.daemon);
        teardown(&d);
        return r;
}
