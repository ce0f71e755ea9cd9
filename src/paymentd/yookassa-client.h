/* SPDX-License-Identifier: MIT */
#pragma once

/* The YooKassa API v3 as paymentd calls it (reference/protocols.md §2): HTTP Basic with the shop
 * id and the secret key, JSON, an Idempotence-Key on every POST, through provider-call.c: a 5xx or
 * a transport failure is tried again with the same key and the same bytes (the result is then the
 * first one's), a 202 after its retry_after, as the official SDK does. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "breaker.h"
#include "creds.h"
#include "http-client.h"

typedef struct YooKassaClient YooKassaClient;

/* What paymentd trusts of a payment object: only ever from YooKassa's own answer. */
typedef struct YooKassaPayment {
        char id[64];
        char status[32];              /* pending, waiting_for_capture, succeeded, canceled */
        char amount[32];              /* "299.00" */
        char currency[8];
        char confirmation_url[512];   /* "" when there is none */
        char metadata_payment[64];    /* metadata.payment: our payment's id, "" when absent */
        char cancel_party[32];        /* cancellation_details, "" unless canceled */
        char cancel_reason[64];
        char method_id[64];           /* payment_method.id when the method was saved, else "" */
        bool paid;
        bool test;
} YooKassaPayment;

/* A refund, as YooKassa says it. */
typedef struct YooKassaRefund {
        char id[64];
        char payment_id[64];
        char status[32];              /* pending, succeeded, canceled */
        char amount[32];
        char currency[8];
} YooKassaRefund;

/* A 54-FZ receipt: one item, the whole amount, a service paid in full. */
typedef struct YooKassaReceipt {
        const char *email;            /* exactly one of the two: the customer's */
        const char *phone;            /* digits, "79001234567" */
        unsigned vat_code;            /* 1-12 */
        unsigned tax_system_code;     /* 1-6; 0: not sent */
} YooKassaReceipt;

typedef struct YooKassaCreate {
        const char *idempotence_key;  /* our payment's id: the same call repeated is the same payment */
        const char *amount;           /* decimal string with two decimals, "299.00" */
        const char *currency;         /* "RUB" */
        const char *description;      /* shown to the payer; cut to 128 characters */
        const char *return_url;       /* a redirect confirmation; NULL to charge a saved method */
        const char *payment_method_id; /* NULL, or the saved method to charge without confirmation */
        bool save_payment_method;     /* ask to keep the method for renewals */
        const char *metadata_payment; /* our payment's id, echoed back as metadata.payment */
        const YooKassaReceipt *receipt;   /* NULL: none; its item is described as the payment */
} YooKassaCreate;

/* @error: 0, -EAGAIN (breaker open), -ENOENT (no such payment), -EPERM (shop id or key refused),
 * -EINVAL (refused as invalid), -EIO (other refusal or a bad answer), -ETIMEDOUT / -ECONNREFUSED /
 * -EHOSTUNREACH (transport, after the retries). @p is set when @error is 0. */
typedef void (*YooKassaPaymentFn)(int error, const YooKassaPayment *p, void *userdata);

typedef struct YooKassaClientOptions {
        const char *url;              /* [YooKassa] URL=, "https://api.yookassa.ru" */
        const char *shop_id;          /* [YooKassa] ShopId= */
        const Secret *key;            /* yookassa-secret-key (copied) */
        unsigned max_attempts;        /* per call, first included (default 3) */
        uint64_t timeout_usec;        /* per attempt (default 15 s) */
        Breaker breaker;              /* thresholds (default 5 failures, 60 s) */
} YooKassaClientOptions;

int yookassa_client_new(sd_event *e, HttpClient *http, const YooKassaClientOptions *o, YooKassaClient **ret);

/* POST /v3/payments. Returns 0 (then @cb gets exactly one call) or -ENOMEM/-EINVAL/-EAGAIN. */
int yookassa_create_payment(YooKassaClient *c, const YooKassaCreate *req, YooKassaPaymentFn cb, void *userdata);

/* GET /v3/payments/{@id}. As above. */
int yookassa_get_payment(YooKassaClient *c, const char *id, YooKassaPaymentFn cb, void *userdata);

/* GET /v3/refunds/{@id}. As above, with the refund. */
typedef void (*YooKassaRefundFn)(int error, const YooKassaRefund *r, void *userdata);
int yookassa_get_refund(YooKassaClient *c, const char *id, YooKassaRefundFn cb, void *userdata);

/* Parses a payment object (an answer, or a notification's "object"), taking nothing on trust
 * beyond its shape. Returns 0 or -EIO. */
struct json_object;
int yookassa_payment_from_json(struct json_object *o, YooKassaPayment *ret);

BreakerState yookassa_client_breaker(const YooKassaClient *c);

/* Switches to @url, @shop_id and @key (copied) for the calls made from now on (a reload).
 * Returns 0, or -ENOMEM with nothing changed. */
int yookassa_client_reconfigure(YooKassaClient *c, const char *url, const char *shop_id, const Secret *key);

/* Free the HttpClient first (see provider-call.h). Accepts NULL; returns NULL. */
YooKassaClient *yookassa_client_free(YooKassaClient *c);
