/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "bus.h"
#include "consumer.h"
#include "daemon.h"
#include "log-fields.h"
#include "lifecycle.h"
#include "events.h"
#include "payments-bus.h"
#include "paymentd.h"
#include "reconcile.h"
#include "sales-plans.h"

#define SECRET_MAX 4096

static void status(Daemon *d, char *buf, size_t size) {
        Paymentd *p = d->opts.userdata;
        int n;

        n = snprintf(buf, size, "Events %" PRIu64 ", order changes %" PRIu64 ", invoices %" PRIu64 ", failures %" PRIu64
                     "; Heleket %s", p->stats.events, p->stats.changes, p->stats.invoices, p->stats.failures,
                     breaker_state_to_string(heleket_client_breaker(p->heleket)));
        if (p->yookassa && n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, ", YooKassa %s",
                              breaker_state_to_string(yookassa_client_breaker(p->yookassa)));
        if (n >= 0 && (size_t) n < size)
                snprintf(buf + n, size - (size_t) n, ", Redis %s", redis_is_up(d->redis) ? "up" : "down");
}

/* A provider's breaker change goes to the journal. */
static void log_breaker(const char *name, BreakerState now, BreakerState *logged) {
        if (now == *logged)
                return;
        if (now == BREAKER_OPEN)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_PROVIDER_DOWN)),
                           "%s keeps failing: circuit breaker open, its calls refused for now.", name);
        else if (now == BREAKER_CLOSED)
                log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_PROVIDER_UP)),
                           "%s answers again: circuit breaker closed.", name);
        *logged = now;
}

/* Every 2 s. */
static void on_breaker_timer(void *userdata) {
        Paymentd *p = userdata;

        BreakerState heleket = heleket_client_breaker(p->heleket);
        char health[96], ttl[16];

        log_breaker("Heleket", heleket, &p->breaker_logged);
        if (p->yookassa)
                log_breaker("YooKassa", yookassa_client_breaker(p->yookassa), &p->yookassa_breaker_logged);
        /* For webhookd's /health/payment: the providers' state, gone unless said again. */
        snprintf(health, sizeof health, "{\"heleket\":\"%s\",\"yookassa\":\"%s\"}", breaker_state_to_string(heleket),
                 p->yookassa ? breaker_state_to_string(yookassa_client_breaker(p->yookassa)) : "off");
        snprintf(ttl, sizeof ttl, "%d", PAYMENT_HEALTH_TTL_MS);
        const char *argv[] = { "SET", KEY_PAYMENT_HEALTH, health, "PX", ttl };
        (void) redis_command_argv(p->daemon.redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
}

/* The lifecycle's run at start, when the database was not up yet; and the renewals a pass left
 * when it went down. */
static void on_database_up(Daemon *d) {
        lifecycle_run(d->opts.userdata);
}

static int on_ready(Daemon *d) {
        Paymentd *p = d->opts.userdata;

        reconcile_run(p);
        outbox_kick(p->outbox);
        outbox_kick(p->subscription_outbox);
        outbox_kick(p->notice_outbox);
        lifecycle_run(p);
        return 0;
}

/* Reads what the shop and Heleket need from @c into the ret_ values. */
static int load_shop(const Config *c, ShopCatalog *ret_catalog, Secret **ret_key) {
        int r;

        r = shop_catalog_load(c, ret_catalog);
        if (r < 0)
                return log_error_errno(r, "Invalid [Shop] settings (Packages=, StarPrice=, Currency=, CustomMin/Max=).");
        if (isempty(c->heleket_merchant))
                return log_error_errno(EINVAL, "[Heleket] Merchant= is not set.");
        r = creds_read("heleket-api-key", SECRET_MAX, ret_key);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential heleket-api-key: %m");
        return 0;
}

/* YooKassa's key when [YooKassa] ShopId= is set, else NULL: then YooKassa's events are kept
 * aside for later. */
static int load_yookassa(const Config *c, Secret **ret_key) {
        int r;

        *ret_key = NULL;
        if (isempty(c->yookassa_shop_id))
                return 0;
        if (c->yookassa_receipt && (c->yookassa_vat_code < 1 || c->yookassa_vat_code > 12 || c->yookassa_tax_system_code > 6))
                return log_error_errno(EINVAL, "[YooKassa] VatCode= must be 1-12 and TaxSystemCode= 0-6.");
        r = creds_read_optional("yookassa-secret-key", SECRET_MAX, ret_key);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential yookassa-secret-key: %m");
        if (!*ret_key)
                log_warning("[YooKassa] ShopId= is set but there is no credential yookassa-secret-key: YooKassa's "
                            "payments are kept aside, unconfirmed.");
        return 0;
}

static int yookassa_start(Paymentd *p, const Config *c, Secret *key) {
        return yookassa_client_new(p->daemon.event, p->daemon.http, &(YooKassaClientOptions) {
                .url = c->yookassa_url, .shop_id = c->yookassa_shop_id, .key = key,
                .breaker = BREAKER_INIT((unsigned) MAX(c->payments_breaker_threshold, (uint64_t) 1),
                                        c->payments_breaker_cooldown_usec),
        }, &p->yookassa);
}

/* The subscription plans, read once per configuration; invalid, subscriptions are refused as
 * not set up (OpenSubscriptionPayment says so) and the rest of paymentd goes on. */
static void load_plans(Paymentd *p, const Config *c) {
        p->plans_loaded = sales_plans_load(c, &p->plans) >= 0;
        if (!p->plans_loaded)
                log_warning("Invalid [Sales] Plans= or Currency=: subscription payments are refused.");
        p->lifecycle_loaded = lifecycle_settings_load(c, &p->lifecycle) >= 0;
        if (!p->lifecycle_loaded)
                log_warning("Invalid [Subscriptions] RemindBefore= or RenewBefore=: the subscription lifecycle does not run.");
}

/* SIGHUP: the shop's prices and packages, Heleket's and YooKassa's addresses, accounts and keys. */
static int reload(Daemon *d, const Config *next) {
        Paymentd *p = d->opts.userdata;
        _cleanup_(secret_freep) Secret *key = NULL, *yk = NULL;
        ShopCatalog catalog;
        int r;

        r = load_shop(next, &catalog, &key);
        if (r >= 0)
                r = load_yookassa(next, &yk);
        if (r < 0)
                return r;
        if (!yk && p->yookassa)
                return log_error_errno(EINVAL, "YooKassa is no longer configured: restart the service to stop using it.");
        r = heleket_client_reconfigure(p->heleket, next->heleket_url, next->heleket_merchant, key);
        if (r >= 0 && yk)
                r = p->yookassa ? yookassa_client_reconfigure(p->yookassa, next->yookassa_url, next->yookassa_shop_id, yk)
                                : yookassa_start(p, next, yk);
        if (r < 0)
                return log_oom();
        p->catalog = catalog;
        secret_free(p->heleket_key);
        p->heleket_key = TAKE_PTR(key);
        load_plans(p, next);
        return 0;
}

static int setup(Paymentd *p, const DaemonArgs *args) {
        _cleanup_(secret_freep) Secret *yk = NULL;
        Daemon *d = &p->daemon;
        HeleketClientOptions ho;
        int r;

        r = daemon_open(d, &(DaemonOptions) {
                .name = "paymentd", .config_path = args->config_path, .consumer = args->consumer,
                .redis = true, .redis_blocking = 1, .database = true, .schema = true, .http_client = true,
                .system_bus = true,
                .ready_on = DAEMON_READY_ON_REDIS, .on_ready = on_ready, .on_database_up = on_database_up, .status = status, .reload = reload,
                .userdata = p,
        });
        if (r < 0)
                return r;
        r = load_shop(&d->config, &p->catalog, &p->heleket_key);
        if (r < 0)
                return r;
        load_plans(p, &d->config);
        ho = (HeleketClientOptions) {
                .url = d->config.heleket_url,
                .merchant = d->config.heleket_merchant,
                .key = p->heleket_key,
                .breaker = BREAKER_INIT((unsigned) MAX(d->config.payments_breaker_threshold, (uint64_t) 1),
                                      d->config.payments_breaker_cooldown_usec),
        };
        r = heleket_client_new(d->event, d->http, &ho, &p->heleket);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the Heleket client: %m");
        r = load_yookassa(&d->config, &yk);
        if (r >= 0 && yk)
                r = yookassa_start(p, &d->config, yk);   /* the client keeps its own copy of the key */
        if (r < 0)
                return log_error_errno(r, "Cannot set up the YooKassa client: %m");
        r = outbox_new(&p->daemon, &order_events_kind, p, &p->outbox);
        if (r >= 0)
                r = outbox_new(&p->daemon, &subscription_events_kind, p, &p->subscription_outbox);
        if (r >= 0)
                r = outbox_new(&p->daemon, &subscription_notices_kind, p, &p->notice_outbox);
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
        r = lifecycle_start(p);
        if (r < 0)
                return log_error_errno(r, "Cannot start the subscription lifecycle: %m");
        r = daemon_add_periodic(d->event, &p->breaker_timer, 2 * USEC_PER_SEC, on_breaker_timer, p);
        if (r < 0)
                return log_error_errno(r, "Cannot add the breaker timer: %m");
        return 0;
}

static void teardown(Paymentd *p) {
        daemon_close_io(&p->daemon);   /* calls under way end through their callbacks */
        p->heleket = heleket_client_free(p->heleket);
        p->yookassa = yookassa_client_free(p->yookassa);
        p->consumer = consumer_free(p->consumer);
        p->outbox = outbox_free(p->outbox);
        p->subscription_outbox = outbox_free(p->subscription_outbox);
        p->notice_outbox = outbox_free(p->notice_outbox);
        p->lifecycle_timer = sd_event_source_disable_unref(p->lifecycle_timer);
        p->reconcile_timer = sd_event_source_disable_unref(p->reconcile_timer);
        p->breaker_timer = sd_event_source_disable_unref(p->breaker_timer);
        daemon_close(&p->daemon);
        p->heleket_key = secret_free(p->heleket_key);
}

int paymentd_run(const DaemonArgs *args) {
        Paymentd p = {};
        int r;

        r = setup(&p, args);
        if (r >= 0)
                r = daemon_run(&p.daemon);
        teardown(&p);
        return r;
}
