/* SPDX-License-Identifier: MIT */
#pragma once

/* The Heleket API as paymentd calls it (reference/protocols.md §1.2, 1.5, 1.6): compact PHP-style
 * JSON, signed over exactly the bytes sent, through provider-call.c (its retries, creating being
 * safe to repeat as order_id is Heleket's idempotency key, and its circuit breaker). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "breaker.h"
#include "creds.h"
#include "http-client.h"

typedef struct HeleketClient HeleketClient;

typedef struct HeleketInvoice {
        char uuid[64];
        char order_id[129];
        char status[32];           /* payment_status */
        char amount[32];
        char payment_amount[32];   /* "" until paid; in payer_currency */
        char payment_amount_usd[32];
        char currency[16];
        char payer_currency[16];
        char url[512];
        bool is_final;
        int64_t expired_at;
} HeleketInvoice;

typedef struct HeleketCreate {
        const char *order_id;      /* our order's public id */
        const char *amount;        /* decimal string, e.g. "3.99" */
        const char *currency;
        const char *url_callback;  /* NULL for none */
        unsigned lifetime_sec;     /* 300…43200 */
        const char *additional_data;
} HeleketCreate;

/* @error: 0, -EAGAIN (breaker open), -ENOENT (no such invoice), -EPERM (key or merchant refused),
 * -EINVAL (refused as invalid), -EIO (other provider error or bad answer), -ETIMEDOUT /
 * -ECONNREFUSED / -EHOSTUNREACH (transport, after the retries). @inv is set when @error is 0. */
typedef void (*HeleketInvoiceFn)(int error, const HeleketInvoice *inv, void *userdata);

typedef struct HeleketClientOptions {
        const char *url;           /* [Heleket] URL= */
        const char *merchant;      /* [Heleket] Merchant= */
        const Secret *key;         /* heleket-api-key (copied) */
        unsigned max_attempts;     /* per call, first included (default 3) */
        uint64_t timeout_usec;     /* per attempt (default 15 s) */
        Breaker breaker;           /* thresholds (default 5 failures, 60 s) */
} HeleketClientOptions;

int heleket_client_new(sd_event *e, HttpClient *http, const HeleketClientOptions *o, HeleketClient **ret);

/* POST /v1/payment. Returns 0 (then @cb gets exactly one call) or -ENOMEM/-EINVAL. */
int heleket_create_invoice(HeleketClient *c, const HeleketCreate *req, HeleketInvoiceFn cb, void *userdata);

/* POST /v1/payment/info by @uuid, or by @order_id when @uuid is NULL. As above. */
int heleket_payment_info(HeleketClient *c, const char *uuid, const char *order_id, HeleketInvoiceFn cb,
                         void *userdata);

/* What the payer really paid, in the invoice's currency: payment_amount_usd for USD invoices,
 * payment_amount when the payer paid in the invoice's currency. NULL when not known. */
const char *heleket_paid_in_invoice_currency(const HeleketInvoice *inv);

BreakerState heleket_client_breaker(const HeleketClient *c);

/* Switches to @url, @merchant and @key (copied) for the calls made from now on (a reload).
 * Returns 0, or -ENOMEM with nothing changed. */
int heleket_client_reconfigure(HeleketClient *c, const char *url, const char *merchant, const Secret *key);

/* Free the HttpClient given to heleket_client_new() first: that ends the calls in flight (they
 * get -ECANCELED). This then ends calls waiting for a retry, the same way. Accepts NULL; returns
 * NULL. */
HeleketClient *heleket_client_free(HeleketClient *c);
