/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-paymentd: the only holder of provider keys. Creates invoices for botd over D-Bus
 * (bus.c), confirms every payment event with the provider before moving money (confirm.c, fed by
 * the payments stream in consumer.c, by "Check payment" and by reconcile.c), and publishes
 * order.* and subscription.* events from the database's outboxes (events.h). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cli.h"
#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "heleket-client.h"
#include "http-client.h"
#include "pg.h"
#include "redis.h"
#include "redis-keys.h"
#include "sales-plans.h"
#include "shop-catalog.h"
#include "subscription-lifecycle.h"
#include "yookassa-client.h"


typedef struct Consumer Consumer;
typedef struct Outbox Outbox;

typedef struct Paymentd {
        Daemon daemon;              /* loop, config, Redis (and one blocking), database, HTTP, bus */
        ShopCatalog catalog;
        Secret *heleket_key;
        HeleketClient *heleket;
        YooKassaClient *yookassa;   /* NULL without [YooKassa] ShopId= and yookassa-secret-key */
        SalesPlans plans;           /* [Sales], valid when plans_loaded */
        bool plans_loaded;
        Consumer *consumer;
        Outbox *outbox;             /* order.* events */
        Outbox *subscription_outbox;   /* subscription.* events of payments */
        Outbox *notice_outbox;      /* subscription.* events of the lifecycle */
        LifecycleSettings lifecycle;   /* [Subscriptions], valid when lifecycle_loaded */
        bool lifecycle_loaded;
        bool lifecycle_running;
        bool renewals_running, renewals_again;
        sd_event_source *lifecycle_timer;
        sd_event_source *reconcile_timer;
        sd_event_source *breaker_timer;
        BreakerState breaker_logged;    /* the Heleket breaker state last logged */
        BreakerState yookassa_breaker_logged;

        struct {
                uint64_t events;        /* payment events handled */
                uint64_t changes;       /* order status changes applied */
                uint64_t invoices;      /* invoices created */
                uint64_t failures;      /* provider or database failures */
        } stats;
} Paymentd;

/* Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads the configuration (the shop's catalog,
 * Heleket's address and merchant) and the heleket-api-key credential. Returns 0 or a negative
 * errno (logged). */
int paymentd_run(const DaemonArgs *args);

/* Confirms a payment with Heleket and applies what Heleket says to the order, crediting the
 * ledger at most once (order_apply_status). Exactly one of @uuid (the invoice) and @order_id (our
 * public id) is needed. With @expire_unknown, an order Heleket has no invoice for is expired (it
 * was never payable). @cb gets: 0 and the order's status afterwards (NULL when Heleket reports
 * the payment still in progress), and whether this call changed it; -ENOENT when neither we nor
 * Heleket know the order; -EAGAIN when Heleket is unavailable (breaker open); another -errno on
 * a provider or database failure. Returns 0 (then @cb gets exactly one call) or -ENOMEM. */
typedef void (*ConfirmFn)(int error, const char *status, bool changed, void *userdata);
int payment_confirm(Paymentd *p, const char *uuid, const char *order_id, const char *source,
                    bool expire_unknown, ConfirmFn cb, void *userdata);

/* Confirms the YooKassa payment @id (YooKassa's; with @refund, the refund @id of one) with
 * YooKassa and applies what its own answers say, never the notification's word
 * (subscription_payment_apply: a success extends the client once; a succeeded refund marks the
 * payment refunded, days kept). @cb gets as payment_confirm()'s, and -EBADMSG for a payment
 * refused (an amount, a currency or a test flag that does not match: logged with
 * MSGID_PAYMENT_REFUSED). Returns 0 (then @cb gets exactly one call), -EOPNOTSUPP when YooKassa
 * is not configured, or -errno. */
int subscription_confirm(Paymentd *p, const char *id, const char *source, bool refund, ConfirmFn cb,
                         void *userdata);

/* As subscription_confirm(), with @yp, YooKassa's own answer to a call just made (the creation of
 * a renewal), instead of a fetch. Returns 0 (then @cb gets exactly one call) or -ENOMEM. */
int subscription_apply(Paymentd *p, const YooKassaPayment *yp, const char *source, ConfirmFn cb, void *userdata);

/* The receipt of a payment of the owner whose contact for receipts is @kind ("email", "phone")
 * and @contact, as [YooKassa] Receipt= wants it: NULL when receipts are off; also NULL, with
 * *@ret_missing set, when they are on and the owner gave no contact (@kind empty). @buf holds it. */
const YooKassaReceipt *subscription_receipt(const Paymentd *p, const char *kind, const char *contact, YooKassaReceipt *buf,
                                            bool *ret_missing);

/* Charges every renewal payment still 'new' (subscription_renewals() made it) to its saved method,
 * one after the other, and applies YooKassa's answer: a success extends the client, a refusal is
 * told to the owner, a method YooKassa does not know is forgotten. A pass asked for while one runs
 * follows it. Does nothing without YooKassa. */
void renewals_run(Paymentd *p);
