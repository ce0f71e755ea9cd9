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
#define STATUS_INTERVAL_USEC (2 * USEC_PER_SEC)

static void send_status(Deployd *d) {
        sd_notifyf(false, "STATUS=Tasks done %" PRIu64 ", retried %" PRIu64 ", dead-lettered %" PRIu64
                   "; units fixed by reconciliation %" PRIu64 "; Redis %s",
                   d->stats.done, d->stats.retried, d->stats.dead, d->stats.reconciled,
                   redis_is_up(d->redis) ? "up" : "down");
}

/* Every second: due retries go back on the queue, and the status is refreshed. */
static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Deployd *d = userdata;

        if (d->ready) {
                queue_promote_due(d);
                send_status(d);
        }
        (void) sd_event_source_set_time(s, usec + USEC_PER_SEC);
        return 0;
}

static void on_redis_state(Redis *r, bool up, void *userdata) {
        Deployd *d = userdata;

        if (up && !d->ready) {
                d->ready = true;
                sd_notify(false, "READY=1");
                send_status(d);
                reconcile_run(d);
        }
        if (!up)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_REDIS_DOWN), "Redis connection lost.");
}

static int setup(Deployd *d, const DeploydArgs *args) {
        _cleanup_(secret_freep) Secret *password = NULL;
        int r;

        r = config_load(&d->config, args->config_path);
        if (r < 0)
                return r;
        r = creds_read("webhook-key", SECRET_MAX, &d->webhook_key);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential webhook-key: %m");
        r = creds_read_optional("redis-password", SECRET_MAX, &password);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential redis-password: %m");
        if (access(d->config.deploy_token_dir, W_OK) < 0)
                return log_error_errno(errno, "[Deploy] TokenDirectory=%s is not writable: %m",
                                       d->config.deploy_token_dir);
        daemon_consumer_name(args->consumer, "deployd", d->consumer_name, sizeof d->consumer_name);
        snprintf(d->actor, sizeof d->actor, "deployd@%s", d->consumer_name);

        r = daemon_event_new(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m");
        r = pg_new(d->event, d->config.database_url, d->config.database_query_timeout_usec, &d->pg);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the database connection: %m");
        r = redis_new(d->event, d->config.redis_url, password, d->config.redis_command_timeout_usec, &d->redis);
        if (r >= 0)
                r = redis_new(d->event, d->config.redis_url, password, d->config.redis_command_timeout_usec,
                              &d->redis_block);
        if (r < 0)
                return log_error_errno(r, "Invalid [Redis] URL=: %m");
        r = http_client_new(d->event, &d->http);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl: %m");
        r = bus_setup(d);
        if (r < 0)
                return log_error_errno(r, "Cannot publish org.tgfleet.Deploy1 on the system bus: %m");
        r = units_new(d->event, d->bus, &d->units);
        if (r < 0)
                return log_error_errno(r, "Cannot watch systemd's jobs: %m");
        r = worker_new(d, &d->worker);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the deploy worker: %m");
        r = reconcile_start(d);
        if (r < 0)
                return log_error_errno(r, "Cannot start reconciliation: %m");
        r = sd_event_add_time_relative(d->event, &d->status_timer, CLOCK_MONOTONIC, USEC_PER_SEC, 0, on_status_timer, d);
        if (r < 0)
                return log_error_errno(r, "Cannot add the status timer: %m");
        (void) sd_event_source_set_enabled(d->status_timer, SD_EVENT_ON);
        redis_set_state_callback(d->redis, on_redis_state, d);
        return 0;
}

static void teardown(Deployd *d) {
        /* Everything under way ends with an error through its callbacks, which start nothing new. */
        d->stopping = true;
        d->units = units_free(d->units);
        d->http = http_client_free(d->http);
        d->pg = pg_free(d->pg);
        d->redis = redis_free(d->redis);
        d->redis_block = redis_free(d->redis_block);
        d->worker = worker_free(d->worker);
        d->reconcile_timer = sd_event_source_disable_unref(d->reconcile_timer);
        d->status_timer = sd_event_source_disable_unref(d->status_timer);
        if (d->bus)
                sd_bus_flush(d->bus);
        d->bus = sd_bus_flush_close_unref(d->bus);
        d->event = sd_event_unref(d->event);
        d->webhook_key = secret_free(d->webhook_key);
        config_done(&d->config);
}

int deployd_run(const DeploydArgs *args) {
        Deployd d = {};
        int r;

        r = setup(&d, args);
        if (r >= 0) {
                r = sd_event_loop(d.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        teardown(&d);
        return r;
}
