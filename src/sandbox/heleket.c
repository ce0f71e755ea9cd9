/* SPDX-License-Identifier: MIT */
/* Heleket as reference/protocols.md §1 describes it: POST JSON signed with headers merchant and
 * sign = md5(base64(body) . payment key); {"state":0,"result":…} envelopes; invoices idempotent on
 * order_id; webhooks to url_callback whose "sign" is computed over the PHP json_encode form of the
 * body, as Heleket's PHP servers do. Outcomes are triggered from the control API; an invoice
 * expires by itself at the end of its lifetime. An underpayment leaves an invoice that allows
 * more payments (is_payment_multiple, the default) open as wrong_amount_waiting until it is paid
 * in full or expires (then wrong_amount, final). */

#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "creds.h"
#include "heleket-sign.h"
#include "json-util.h"
#include "log.h"
#include "money.h"
#include "php-json.h"
#include "sandbox.h"

#define WEBHOOK_ATTEMPTS 8

struct Invoice {
        Invoice *next;
        char uuid[37];
        char *order_id;
        char *amount;           /* decimal string as given */
        char *currency;
        char *url_callback;
        char *additional_data;
        char *payment_amount;   /* NULL until paid */
        char *network;
        char status[24];
        bool is_final;
        bool is_multiple;       /* is_payment_multiple: an underpayment may be topped up */
        int64_t created_at, updated_at, expired_at;
        char address[40];
        char txid[72];          /* of the last payment, or "" */
        Sandbox *sb;
        sd_event_source *expiry;
};

struct Delivery {
        Delivery *next;
        Sandbox *sb;
        char *url;
        char *body;
        unsigned attempts;
        sd_event_source *retry;
};

static ApiReply hk_ok(json_object *result) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_int(0));
        json_object_object_add(o, "result", result);
        return api_reply(200, o);
}

static ApiReply hk_message(unsigned status, const char *message) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_int(1));
        json_object_object_add(o, "message", json_object_new_string(message));
        return api_reply(status, o);
}

/* 422 {"state":1,"errors":{"field":["validation.rule"], …}} when @errors (taken) lists any field;
 * otherwise nothing (no JSON) and @errors is freed. */
static ApiReply hk_invalid_fields(json_object *errors) {
        json_object *o;

        if (json_object_object_length(errors) == 0) {
                json_object_put(errors);
                return (ApiReply) {};
        }
        o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_int(1));
        json_object_object_add(o, "errors", errors);
        return api_reply(422, o);
}

/* Adds @rule to the errors of @field, as Heleket lists every failed field at once. */
static void invalid(json_object *errors, const char *field, const char *rule) {
        json_object *list;

        if (!json_object_object_get_ex(errors, field, &list)) {
                list = json_object_new_array();
                json_object_object_add(errors, field, list);
        }
        json_object_array_add(list, json_object_new_string(rule));
}

/* 422 for one @field. */
static ApiReply hk_invalid(const char *field, const char *rule) {
        json_object *errors = json_object_new_object();

        invalid(errors, field, rule);
        return hk_invalid_fields(errors);
}

static void random_uuid(char out[37]) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 36; i++)
                out[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[random() % 16];
        out[14] = '4';
        out[36] = 0;
}

static bool alpha_dash(const char *s, size_t max) {
        size_t l = s ? strlen(s) : 0;
        return l >= 1 && l <= max &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == l;
}

static Invoice *invoice_find(Sandbox *sb, const char *key) {
        for (Invoice *i = sb->invoices; i && key; i = i->next)
                if (streq(i->uuid, key) || streq(i->order_id, key))
                        return i;
        return NULL;
}

/* Heleket's timestamps: "2026-12-02T10:00:00+03:00" (Moscow time, as its servers write them). */
static json_object *iso_time(int64_t t) {
        time_t moscow = (time_t) (t + 3 * 3600);
        struct tm tm;
        char buf[40];

        (void) gmtime_r(&moscow, &tm);
        (void) strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+03:00", &tm);
        return json_object_new_string(buf);
}

static json_object *invoice_json(const Invoice *i, const char *base) {
        char url[256];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "uuid", json_object_new_string(i->uuid));
        json_object_object_add(o, "order_id", json_object_new_string(i->order_id));
        json_object_object_add(o, "amount", json_object_new_string(i->amount));
        json_object_object_add(o, "payment_amount", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        /* The sandbox's payers pay USDT at 1:1. */
        json_object_object_add(o, "payment_amount_usd", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        json_object_object_add(o, "payer_amount", json_object_new_string(i->amount));
        json_object_object_add(o, "payer_currency", json_object_new_string("USDT"));
        json_object_object_add(o, "currency", json_object_new_string(i->currency));
        json_object_object_add(o, "merchant_amount", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        json_object_object_add(o, "commission", json_object_new_string("0.00"));
        json_object_object_add(o, "network", i->network ? json_object_new_string(i->network) : NULL);
        json_object_object_add(o, "address", json_object_new_string(i->address));
        snprintf(url, sizeof url, "%s/qr/%s", base, i->address);
        json_object_object_add(o, "address_qr_code", json_object_new_string(url));
        json_object_object_add(o, "from", i->txid[0] ? json_object_new_string("TSandboxPayerAddress000000000000000") : NULL);
        json_object_object_add(o, "txid", i->txid[0] ? json_object_new_string(i->txid) : NULL);
        json_object_object_add(o, "payment_status", json_object_new_string(i->status));
        json_object_object_add(o, "status", json_object_new_string(i->status));
        snprintf(url, sizeof url, "%s/pay/%s", base, i->uuid);
        json_object_object_add(o, "url", json_object_new_string(url));
        json_object_object_add(o, "expired_at", json_object_new_int64(i->expired_at));
        json_object_object_add(o, "is_final", json_object_new_boolean(i->is_final));
        json_object_object_add(o, "is_payment_multiple", json_object_new_boolean(i->is_multiple));
        json_object_object_add(o, "additional_data", i->additional_data ? json_object_new_string(i->additional_data) : NULL);
        json_object_object_add(o, "created_at", iso_time(i->created_at));
        json_object_object_add(o, "updated_at", iso_time(i->updated_at));
        return o;
}

/* --- webhooks ------------------------------------------------------------------------------------ */

static void send_webhook(Delivery *d);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Delivery *d = userdata;
        (void) s;
        (void) usec;
        d->retry = sd_event_source_unref(d->retry);
        send_webhook(d);
        return 0;
}

static void delivery_free(Delivery *d) {
        for (Delivery **p = &d->sb->deliveries; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        break;
                }
        sd_event_source_disable_unref(d->retry);
        free(d->url);
        free(d->body);
        free(d);
}

static void on_sent(HttpClient *c, const HttpResponse *r, void *userdata) {
        Delivery *d = userdata;
        (void) c;

        /* Heleket retries until it gets a 200 (or the sandbox stops). */
        if ((r->error == 0 && r->status == 200) || r->error == -ECANCELED) {
                delivery_free(d);
                return;
        }
        if (++d->attempts >= WEBHOOK_ATTEMPTS) {
                log_warning("Heleket webhook to %s given up after %u attempts.", d->url, d->attempts);
                delivery_free(d);
                return;
        }
        uint64_t delay = MIN(d->sb->limits.retry_base_usec << (d->attempts - 1), d->sb->limits.retry_max_usec);
        (void) sd_event_add_time_relative(d->sb->event, &d->retry, CLOCK_MONOTONIC, delay, 0, on_retry, d);
}

static void send_webhook(Delivery *d) {
        const char *headers[] = { "Content-Type: application/json", NULL };

        if (http_client_request(d->sb->client,
                                &(HttpRequest) { .method = "POST", .url = d->url, .headers = headers, .body = d->body,
                                                 .body_size = strlen(d->body) },
                                on_sent, d) < 0)
                delivery_free(d);
}

/* Builds the webhook of @status for @i to @url, signed over its PHP json_encode form, and posts
 * it. The body on the wire is that same PHP form with "sign" appended. */
static int webhook(Sandbox *sb, const Invoice *i, const char *url, const char *status) {
        json_object *o = json_object_new_object();
        struct printbuf *pb = printbuf_new();
        char sign[HELEKET_SIGN_SIZE];
        Delivery *d;

        json_object_object_add(o, "type", json_object_new_string("payment"));
        json_object_object_add(o, "uuid", json_object_new_string(i->uuid));
        json_object_object_add(o, "order_id", json_object_new_string(i->order_id));
        json_object_object_add(o, "amount", json_object_new_string(i->amount));
        json_object_object_add(o, "payment_amount", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        json_object_object_add(o, "payment_amount_usd", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        json_object_object_add(o, "merchant_amount", i->payment_amount ? json_object_new_string(i->payment_amount) : NULL);
        json_object_object_add(o, "commission", json_object_new_string("0.00"));
        json_object_object_add(o, "is_final", json_object_new_boolean(i->is_final));
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "from", json_object_new_string("TSandboxPayerAddress000000000000000"));
        json_object_object_add(o, "wallet_address_uuid", NULL);
        json_object_object_add(o, "network", json_object_new_string(i->network ?: "tron"));
        json_object_object_add(o, "currency", json_object_new_string(i->currency));
        json_object_object_add(o, "payer_currency", json_object_new_string("USDT"));
        json_object_object_add(o, "additional_data", i->additional_data ? json_object_new_string(i->additional_data) : NULL);
        json_object_object_add(o, "txid", i->txid[0] ? json_object_new_string(i->txid) : NULL);

        if (!pb || php_json_encode(o, NULL, pb) < 0 ||
            heleket_sign(pb->buf, (size_t) pb->bpos, sb->heleket_key, strlen(sb->heleket_key), sign) < 0) {
                json_object_put(o);
                if (pb)
                        printbuf_free(pb);
                return -ENOMEM;
        }
        json_object_put(o);
        d = calloc(1, sizeof *d);
        d->sb = sb;
        d->next = sb->deliveries;
        sb->deliveries = d;
        d->url = strdup(url);
        pb->buf[pb->bpos - 1] = 0;  /* drop the closing brace, append the sign */
        (void) asprintf(&d->body, "%s,\"sign\":\"%s\"}", pb->buf, sign);
        printbuf_free(pb);
        sandbox_record_call(sb, "heleket-webhook", status);
        send_webhook(d);
        return 0;
}

/* --- API ----------------------------------------------------------------------------------------- */

/* Whether @req carries the merchant and a sign made with @key. */
static bool request_signed(Sandbox *sb, const ApiRequest *req, const char *key) {
        const char *merchant = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "merchant");
        const char *got = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "sign");
        char want[HELEKET_SIGN_SIZE];

        if (!merchant || !got || !key || !streq(merchant, sb->heleket_merchant))
                return false;
        if (heleket_sign(req->body, req->body_size, key, strlen(key), want) < 0)
                return false;
        return secret_equal(want, strlen(want), got, strlen(got));
}

static void check_url(json_object *errors, json_object *params, const char *field) {
        json_object *v;
        const char *url;

        if (!json_object_object_get_ex(params, field, &v) || json_object_is_type(v, json_type_null))
                return;
        url = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        if (!url || strlen(url) < 6 || strlen(url) > 255 || (!startswith(url, "http://") && !startswith(url, "https://")))
                invalid(errors, field, "validation.url");
}

static void expire(Invoice *i, bool send);

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata) {
        Invoice *i = userdata;
        (void) s;
        (void) usec;

        expire(i, true);
        return 0;
}

static ApiReply create_invoice(Sandbox *sb, const ApiRequest *req) {
        const char *amount = json_get_string(req->params, "amount"), *currency = json_get_string(req->params, "currency");
        const char *order_id = json_get_string(req->params, "order_id"), *cb = json_get_string(req->params, "url_callback");
        const char *extra = json_get_string(req->params, "additional_data");
        const char *network = json_get_string(req->params, "network");
        json_object *errors = json_object_new_object(), *v;
        int64_t lifetime = 3600, minor;
        bool multiple = true;
        char base[200];
        Invoice *i;

        if (!amount)
                invalid(errors, "amount", "validation.required");
        else if (money_parse(amount, 8, &minor) < 0 || minor <= 0)
                invalid(errors, "amount", "validation.numeric");
        if (!currency)
                invalid(errors, "currency", "validation.required");
        else if (strlen(currency) < 2 || strlen(currency) > 10 || strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") <
                                                                        strlen(currency))
                invalid(errors, "currency", "validation.in");
        if (!order_id)
                invalid(errors, "order_id", "validation.required");
        else if (!alpha_dash(order_id, 128))
                invalid(errors, "order_id", "validation.alpha_dash");
        check_url(errors, req->params, "url_callback");
        check_url(errors, req->params, "url_return");
        check_url(errors, req->params, "url_success");
        if (json_get_int64(req->params, "lifetime", &lifetime) == -EINVAL || lifetime < sb->heleket_min_lifetime ||
            lifetime > 43200)
                invalid(errors, "lifetime", "validation.between.numeric");
        if (json_object_object_get_ex(req->params, "is_payment_multiple", &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_boolean))
                        invalid(errors, "is_payment_multiple", "validation.boolean");
                else
                        multiple = json_object_get_boolean(v);
        }
        if (network && (strlen(network) < 2 || strlen(network) > 20))
                invalid(errors, "network", "validation.in");
        if (extra && strlen(extra) > 255)
                invalid(errors, "additional_data", "validation.max.string");
        ApiReply e = hk_invalid_fields(errors);
        if (e.json)
                return e;
        sandbox_base_url(req, base, sizeof base);

        /* "When we find an existing invoice with order_id, we return its details." */
        i = invoice_find(sb, order_id);
        if (i)
                return hk_ok(invoice_json(i, base));
        i = calloc(1, sizeof *i);
        random_uuid(i->uuid);
        i->sb = sb;
        i->order_id = strdup(order_id);
        i->amount = strdup(amount);
        i->currency = strdup(currency);
        i->network = network ? strdup(network) : NULL;
        i->url_callback = cb ? strdup(cb) : NULL;
        i->additional_data = extra ? strdup(extra) : NULL;
        i->is_multiple = multiple;
        snprintf(i->status, sizeof i->status, "check");
        snprintf(i->address, sizeof i->address, "TSandbox%.26s", i->uuid);
        i->created_at = i->updated_at = (int64_t) time(NULL);
        i->expired_at = i->created_at + lifetime;
        (void) sd_event_add_time(sb->event, &i->expiry, CLOCK_REALTIME, (uint64_t) i->expired_at * USEC_PER_SEC, 0,
                                 on_expiry, i);
        i->next = sb->invoices;
        sb->invoices = i;
        return hk_ok(invoice_json(i, base));
}

static void set_status(Invoice *i, const char *status, bool final, bool send);

/* POST /v1/payment/refund {uuid|order_id, address, is_subtract}: a paid invoice's refund starts
 * (refund_process); the control API's "refund" completes it. */
static ApiReply refund(Sandbox *sb, const ApiRequest *req) {
        json_object *errors = json_object_new_object(), *v;
        Invoice *i;

        if (isempty(json_get_string(req->params, "address")))
                invalid(errors, "address", "validation.required");
        if (!json_object_object_get_ex(req->params, "is_subtract", &v) || !json_object_is_type(v, json_type_boolean))
                invalid(errors, "is_subtract", "validation.boolean");
        if (!json_get_string(req->params, "uuid") && !json_get_string(req->params, "order_id"))
                invalid(errors, "uuid", "validation.required_without");
        ApiReply e = hk_invalid_fields(errors);
        if (e.json)
                return e;
        i = invoice_find(sb, json_get_string(req->params, "uuid"));
        if (!i)
                i = invoice_find(sb, json_get_string(req->params, "order_id"));
        if (!i)
                return hk_message(404, "Payment not found");
        if (!streq(i->status, "paid") && !streq(i->status, "paid_over"))
                return hk_message(422, "The invoice cannot be refunded");
        set_status(i, "refund_process", false, true);
        return hk_ok(json_object_new_array());
}

/* POST /v1/payment/services: what payers can pay with, and its limits. */
static json_object *services_json(void) {
        static const struct { const char *network, *currency, *min, *max; } services[] = {
                { "tron", "USDT", "1.00", "1000000.00" }, { "bsc", "USDT", "1.00", "1000000.00" },
                { "btc", "BTC", "5.00", "1000000.00" }, { "eth", "ETH", "5.00", "1000000.00" },
                { "ton", "TON", "1.00", "1000000.00" },
        };
        json_object *list = json_object_new_array();

        for (size_t k = 0; k < ELEMENTSOF(services); k++) {
                json_object *o = json_object_new_object(), *limit = json_object_new_object(),
                            *commission = json_object_new_object();
                json_object_object_add(o, "network", json_object_new_string(services[k].network));
                json_object_object_add(o, "currency", json_object_new_string(services[k].currency));
                json_object_object_add(o, "is_available", json_object_new_boolean(true));
                json_object_object_add(limit, "min_amount", json_object_new_string(services[k].min));
                json_object_object_add(limit, "max_amount", json_object_new_string(services[k].max));
                json_object_object_add(o, "limit", limit);
                json_object_object_add(commission, "fee_amount", json_object_new_string("0.00"));
                json_object_object_add(commission, "percent", json_object_new_string("0.40"));
                json_object_object_add(o, "commission", commission);
                json_object_array_add(list, o);
        }
        return list;
}

ApiReply heleket_handle(Sandbox *sb, const ApiRequest *req) {
        char base[200];
        Invoice *i;

        sandbox_record_call(sb, "heleket", req->path);
        if (sb->heleket_fault)
                return hk_message(sb->heleket_fault, "Sandbox fault injected");
        if (!streq(req->method, "POST"))
                return hk_message(405, "Method not allowed");
        if (!sb->heleket_key || !sb->heleket_merchant)
                return hk_message(500, "Sandbox has no Heleket merchant configured");
        /* Refunds are signed with the payout key, everything else with the payment key. */
        if (!request_signed(sb, req, streq(req->path, "/v1/payment/refund") ? sb->heleket_payout_key : sb->heleket_key))
                return hk_message(401, "Wrong sign");
        sandbox_base_url(req, base, sizeof base);

        if (streq(req->path, "/v1/payment"))
                return create_invoice(sb, req);
        if (streq(req->path, "/v1/payment/info")) {
                i = invoice_find(sb, json_get_string(req->params, "order_id"));
                if (!i)
                        i = invoice_find(sb, json_get_string(req->params, "uuid"));
                if (!json_get_string(req->params, "order_id") && !json_get_string(req->params, "uuid"))
                        return hk_invalid("uuid", "validation.required_without");
                return i ? hk_ok(invoice_json(i, base)) : hk_message(404, "Payment not found");
        }
        if (streq(req->path, "/v1/payment/resend")) {
                i = invoice_find(sb, json_get_string(req->params, "order_id"));
                if (!i)
                        i = invoice_find(sb, json_get_string(req->params, "uuid"));
                if (!i)
                        return hk_message(404, "Payment not found");
                if (!streq(i->status, "paid") && !streq(i->status, "paid_over") && !streq(i->status, "wrong_amount"))
                        return hk_message(422, "You can resend the webhook only for finalized invoices");
                if (!i->url_callback)
                        return hk_message(422, "url_callback is not set");
                webhook(sb, i, i->url_callback, i->status);
                return hk_ok(json_object_new_array());
        }
        if (streq(req->path, "/v1/payment/refund"))
                return refund(sb, req);
        if (streq(req->path, "/v1/payment/services"))
                return hk_ok(services_json());
        if (streq(req->path, "/v1/test-webhook/payment")) {
                const char *url = json_get_string(req->params, "url_callback");
                const char *status = json_get_string(req->params, "status") ?: "paid";
                Invoice test = { .order_id = (char *) "test", .amount = (char *) "1.00", .currency = (char *) "USD",
                                 .is_final = true };
                if (!url)
                        return hk_invalid("url_callback", "validation.required");
                i = invoice_find(sb, json_get_string(req->params, "uuid"));
                if (!i)
                        i = invoice_find(sb, json_get_string(req->params, "order_id"));
                if (!i) {
                        random_uuid(test.uuid);
                        i = &test;
                }
                webhook(sb, i, url, status);
                return hk_ok(json_object_new_array());
        }
        return hk_message(404, "Not found");
}

static void set_status(Invoice *i, const char *status, bool final, bool send) {
        snprintf(i->status, sizeof i->status, "%s", status);
        i->is_final = final;
        i->updated_at = (int64_t) time(NULL);
        if (final)
                i->expiry = sd_event_source_disable_unref(i->expiry);
        if (i->url_callback && send)
                webhook(i->sb, i, i->url_callback, i->status);
}

/* The lifetime is over: unpaid, cancel; paid short, wrong_amount; both final. */
static void expire(Invoice *i, bool send) {
        if (i->is_final)
                return;
        set_status(i, i->payment_amount ? "wrong_amount" : "cancel", true, send);
}

/* A payment of @percent of the invoice amount (on top of what was paid before, for the rest of
 * an underpaid one). */
static int pay(Invoice *i, int percent, bool send) {
        int64_t amount, before = 0, paid;
        char buf[40];

        if (money_parse(i->amount, 2, &amount) < 0 || (i->payment_amount && money_parse(i->payment_amount, 2, &before) < 0))
                return -EINVAL;
        paid = percent < 100 ? before + (amount - before) * percent / 100 : amount * percent / 100;
        (void) money_format(paid, 2, buf, sizeof buf);
        free(i->payment_amount);
        i->payment_amount = strdup(buf);
        if (!i->network)
                i->network = strdup("tron");
        snprintf(i->txid, sizeof i->txid, "sandbox-tx-%.8s-%" PRId64, i->uuid, paid);
        if (paid < amount)
                set_status(i, i->is_multiple ? "wrong_amount_waiting" : "wrong_amount", !i->is_multiple, send);
        else
                set_status(i, paid > amount ? "paid_over" : "paid", true, send);
        return 0;
}

/* Applies @outcome to an invoice, as a payer or time would, and sends its webhook. A final
 * invoice can only be refunded (once it was paid). */
int heleket_trigger(Sandbox *sb, const char *key, const char *outcome, bool send, json_object **ret) {
        Invoice *i = invoice_find(sb, key);
        int r = 0;

        if (!i)
                return -ENOENT;
        if (streq(outcome, "refund")) {
                if (!streq(i->status, "paid") && !streq(i->status, "paid_over") && !streq(i->status, "refund_process"))
                        return -EBUSY;
                set_status(i, "refund_paid", true, send);
        } else if (streq(outcome, "refund-fail")) {
                if (!streq(i->status, "refund_process"))
                        return -EBUSY;
                set_status(i, "refund_fail", true, send);
        } else if (streq(outcome, "process")) {
                if (i->is_final)
                        return -EBUSY;
                set_status(i, "process", false, send);
        } else if (i->is_final || startswith(i->status, "refund"))
                return -EBUSY;
        else if (streq(outcome, "pay"))
                r = pay(i, 100, send);
        else if (streq(outcome, "pay-over"))
                r = pay(i, 110, send);
        else if (streq(outcome, "pay-short"))
                r = pay(i, 50, send);
        else if (streq(outcome, "seen"))
                set_status(i, "confirm_check", false, send);
        else if (streq(outcome, "expire"))
                expire(i, send);
        else if (streq(outcome, "fail"))
                set_status(i, "fail", true, send);
        else
                return -EINVAL;
        if (r < 0)
                return r;
        *ret = invoice_json(i, "http://sandbox");
        return 0;
}

json_object *heleket_invoice(Sandbox *sb, const char *key) {
        Invoice *i = invoice_find(sb, key);
        return i ? invoice_json(i, "") : NULL;
}

void heleket_free_all(Sandbox *sb) {
        while (sb->deliveries)
                delivery_free(sb->deliveries);
        while (sb->invoices) {
                Invoice *i = sb->invoices;
                sb->invoices = i->next;
                free(i->order_id);
                free(i->amount);
                free(i->currency);
                free(i->url_callback);
                free(i->additional_data);
                free(i->payment_amount);
                free(i->network);
                sd_event_source_disable_unref(i->expiry);
                free(i);
        }
}

ApiReply heleket_error(unsigned status, const char *message) {
        return hk_message(status, message);
}
