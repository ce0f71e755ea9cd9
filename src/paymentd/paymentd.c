/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "bus.h"
#include "consumer.h"
#include "daemon.h"
#include "log.h"
#include "outbox.h"
#include "payments-bus.h"
#include "paymentd.h"
#include "reconcile.h"

#define SECRET_MAX 4096
#define STATUS_INTERVAL_USEC (2 * USEC_PER_SEC)

static void send_status(Paymentd *p) {
        sd_notifyf(false, "STATUS=Events %" PRIu64 ", order changes %" PRIu64 ", invoices %" PRIu64
                   ", failures %" PRIu64 "; Heleket %s, Redis %s",
                   p->stats.events, p->stats.changes, p->stats.invoices, p->stats.failures,
                   breaker_state_to_string(heleket_client_breaker(p->heleket)),
                   redis_is_up(p->redis) ? "up" : "down");
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Paymentd *p = userdata;
        BreakerState now = heleket_client_breaker(p->heleket);

        if (now != p->breaker_logged) {
                if (now == BREAKER_OPEN)
                        log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_PROVIDER_DOWN),
                                   "Heleket keeps failing: circuit breaker open, invoices refused for now.");
                else if (now == BREAKER_CLOSED)
                        log_struct(LOG_NOTICE, 0, LOG_FIELDS(.message_id = MSGID_PROVIDER_UP),
                                   "Heleket answers again: circuit breaker closed.");
                p->breaker_logged = now;
        }
        if (p->ready)
                send_status(p);
        (void) sd_event_source_set_time(s, usec + STATUS_INTERVAL_USEC);
        return 0;
}

static void on_redis_state(Redis *r, bool up, void *userdata) {
        Paymentd *p = userdata;

        if (up && !p->ready) {
                p->ready = true;
                sd_notify(false, "READY=1");
                send_status(p);
                reconcile_run(p);
                outbox_kick(p->outbox);
        }
        if (!up)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_REDIS_DOWN), "Redis connection lost.");
}

static int setup(Paymentd *p, const PaymentdArgs *args) {
        _cleanup_(secret_freep) Secret *password = NULL;
        HeleketClientOptions ho;
        int r;

        r = config_load(&p->config, args->config_path);
        if (r < 0)
                return r;
        r = shop_catalog_load(&p->config, &p->catalog);
        if (r < 0)
                return log_error_errno(r, "Invalid [Shop] settings (Packages=, StarPrice=, Currency=, CustomMin/Max=).");
        if (isempty(p->config.heleket_merchant))
                return log_error_errno(EINVAL, "[Heleket] Merchant= is not set.");
        r = creds_read("heleket-api-key", SECRET_MAX, &p->heleket_key);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential heleket-api-key: %m");
        r = creds_read_optional("redis-password", SECRET_MAX, &password);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential redis-password: %m");
        daemon_consumer_name(args->consumer, "paymentd", p->consumer_name, sizeof p->consumer_name);

        r = daemon_event_new(&p->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m");
        r = pg_new(p->event, p->config.database_url, p->config.database_query_timeout_usec, &p->pg);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the database connection: %m");
        r = redis_new(p->event, p->config.redis_url, password, p->config.redis_command_timeout_usec, &p->redis);
        if (r >= 0)
                r = redis_new(p->event, p->config.redis_url, password, p->config.redis_command_timeout_usec,
                              &p->redis_block);
        if (r < 0)
                return log_error_errno(r, "Invalid [Redis] URL=: %m");
        r = http_client_new(p->event, &p->http);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl: %m");
        ho = (HeleketClientOptions) {
                .url = p->config.heleket_url,
                .merchant = p->config.heleket_merchant,
                .key = p->heleket_key,
                .breaker = BREAKER_INIT((unsigned) MAX(p->config.payments_breaker_threshold, (uint64_t) 1),
                                      p->config.payments_breaker_cooldown_usec),
        };
        r = heleket_client_new(p->event, p->http, &ho, &p->heleket);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the Heleket client: %m");
        r = outbox_new(p, &p->outbox);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event publisher: %m");
        r = bus_setup(p);
        if (r < 0)
                return log_error_errno(r, "Cannot publish %s on the system bus: %m", PAYMENTS_BUS_NAME);
        r = consumer_new(p, &p->consumer);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the payments consumer: %m");
        r = reconcile_start(p);
        if (r < 0)
                return log_error_errno(r, "Cannot start reconciliation: %m");
        r = sd_event_add_time_relative(p->event, &p->status_timer, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 0,
                                       on_status_timer, p);
        if (r < 0)
                return log_error_errno(r, "Cannot add the status timer: %m");
        (void) sd_event_source_set_enabled(p->status_timer, SD_EVENT_ON);
        redis_set_state_callback(p->redis, on_redis_state, p);
        return 0;
}

static void teardown(Paymentd *p) {
        /* Everything under way ends with an error through its callbacks, which start nothing new. */
        p->stopping = true;
        p->http = http_client_free(p->http);
        p->heleket = heleket_client_free(p->heleket);
        p->pg = pg_free(p->pg);
        p->redis = redis_free(p->redis);
        p->redis_block = redis_free(p->redis_block);
        p->consumer = consumer_free(p->consumer);
        p->outbox = outbox_free(p->outbox);
        p->reconcile_timer = sd_event_source_disable_unref(p->reconcile_timer);
        p->status_timer = sd_event_source_disable_unref(p->status_timer);
        if (p->bus)
                sd_bus_flush(p->bus);
        p->bus = sd_bus_flush_close_unref(p->bus);
        p->event = sd_event_unref(p->event);
        p->heleket_key = secret_free(p->heleket_key);
        config_done(&p->config);
}

int paymentd_run(const PaymentdArgs *args) {
        Paymentd p = {};
        int r;

        r = setup(&p, args);
        if (r >= 0) {
                r = sd_event_loop(p.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        teardown(&p);
        return r;
}
