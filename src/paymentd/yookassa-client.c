/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "provider-call.h"
#include "utf8.h"
#include "yookassa-client.h"

#define DESCRIPTION_MAX 128               /* characters (the SDK's MAX_LENGTH_DESCRIPTION) */
#define RETRY_AFTER_DEFAULT_MSEC 1800     /* the PHP SDK's delay for a 202 without retry_after */
#define USERPWD_MAX 4400

struct YooKassaClient {
        ProviderCalls *calls;
        ProviderAccount account;    /* the shop id is the account */
};

typedef struct Call {
        YooKassaPaymentFn cb;             /* a payment is asked for, or */
        YooKassaRefundFn refund_cb;       /* a refund */
        void *userdata;
        char what[80];                    /* for logs: "POST /v3/payments" */
} Call;

static void copy_string(json_object *o, const char *key, char *buf, size_t size) {
        const char *v = json_get_string(o, key);
        snprintf(buf, size, "%s", v ?: "");
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

int yookassa_payment_from_json(json_object *o, YooKassaPayment *ret) {
        YooKassaPayment p = {};
        json_object *amount, *sub;

        if (!json_object_is_type(o, json_type_object) || !json_get_string(o, "id") || !json_get_string(o, "status") ||
            !json_object_object_get_ex(o, "amount", &amount) || !json_get_string(amount, "value") ||
            !json_get_string(amount, "currency"))
                return -EIO;
        copy_string(o, "id", p.id, sizeof p.id);
        copy_string(o, "status", p.status, sizeof p.status);
        copy_string(amount, "value", p.amount, sizeof p.amount);
        copy_string(amount, "currency", p.currency, sizeof p.currency);
        if (json_object_object_get_ex(o, "confirmation", &sub))
                copy_string(sub, "confirmation_url", p.confirmation_url, sizeof p.confirmation_url);
        if (json_object_object_get_ex(o, "metadata", &sub))
                copy_string(sub, "payment", p.metadata_payment, sizeof p.metadata_payment);
        if (json_object_object_get_ex(o, "cancellation_details", &sub)) {
                copy_string(sub, "party", p.cancel_party, sizeof p.cancel_party);
                copy_string(sub, "reason", p.cancel_reason, sizeof p.cancel_reason);
        }
        if (json_object_object_get_ex(o, "payment_method", &sub) && get_bool(sub, "saved"))
                copy_string(sub, "id", p.method_id, sizeof p.method_id);
        p.paid = get_bool(o, "paid");
        p.test = get_bool(o, "test");
        *ret = p;
        return 0;
}

static int refund_from_json(json_object *o, YooKassaRefund *ret) {
        YooKassaRefund r = {};
        json_object *amount;

        if (!json_object_is_type(o, json_type_object) || !json_get_string(o, "id") || !json_get_string(o, "payment_id") ||
            !json_get_string(o, "status") || !json_object_object_get_ex(o, "amount", &amount) ||
            !json_get_string(amount, "value") || !json_get_string(amount, "currency"))
                return -EIO;
        copy_string(o, "id", r.id, sizeof r.id);
        copy_string(o, "payment_id", r.payment_id, sizeof r.payment_id);
        copy_string(o, "status", r.status, sizeof r.status);
        copy_string(amount, "value", r.amount, sizeof r.amount);
        copy_string(amount, "currency", r.currency, sizeof r.currency);
        *ret = r;
        return 0;
}

/* Hands @k's caller its answer: an error, or the object @o. */
static void answer(Call *k, int error, json_object *o) {
        YooKassaPayment p;
        YooKassaRefund r;

        if (error >= 0 && (k->refund_cb ? refund_from_json(o, &r) : yookassa_payment_from_json(o, &p)) < 0) {
                log_warning("YooKassa answered %s with an object that is not what was asked for.", k->what);
                error = -EIO;
        }
        if (k->refund_cb)
                k->refund_cb(error < 0 ? error : 0, error < 0 ? NULL : &r, k->userdata);
        else
                k->cb(error < 0 ? error : 0, error < 0 ? NULL : &p, k->userdata);
}

/* A 202: "still processing, ask again", after the body's retry_after (ms). */
static uint64_t later(const HttpResponse *r) {
        _cleanup_json_ json_object *o = NULL;
        int64_t ms = RETRY_AFTER_DEFAULT_MSEC;

        if (r->status != 202)
                return 0;
        if (json_parse(r->body, r->size, &o) >= 0)
                (void) json_get_int64(o, "retry_after", &ms);
        return (uint64_t) MIN(MAX(ms, (int64_t) 1), (int64_t) 60000) * USEC_PER_MSEC;
}

static void on_response(const HttpResponse *r, void *userdata) {
        _cleanup_free_ Call *k = userdata;
        _cleanup_json_ json_object *o = NULL;

        if (r->error < 0)
                return answer(k, r->error, NULL);
        if (json_parse(r->body, r->size, &o) < 0 || !json_object_is_type(o, json_type_object)) {
                log_warning("YooKassa answered %s with HTTP %ld and no JSON object.", k->what, r->status);
                return answer(k, -EIO, NULL);
        }
        if (r->status != 200) {
                /* Its code, description and the parameter it names: never a value of ours. */
                log_warning("YooKassa refused %s (HTTP %ld, %s): %s%s%s", k->what, r->status,
                            json_get_string(o, "code") ?: "no code", json_get_string(o, "description") ?: "no reason given",
                            json_get_string(o, "parameter") ? ", parameter " : "", json_get_string(o, "parameter") ?: "");
                return answer(k, r->status == 404 ? -ENOENT : r->status == 401 || r->status == 403 ? -EPERM
                                 : r->status == 400 ? -EINVAL : -EIO, NULL);
        }
        answer(k, 0, o);
}

/* Makes @method @path with @body (NULL for none) and, for a POST, @key as Idempotence-Key. */
static int call(YooKassaClient *c, const char *method, const char *path, const char *body, const char *key,
                YooKassaPaymentFn cb, YooKassaRefundFn refund_cb, void *userdata) {
        _cleanup_free_ char *url = NULL;
        char userpwd[USERPWD_MAX], idempotence[160];
        const char *headers[] = { "Content-Type: application/json", key ? idempotence : NULL, NULL };
        Call *k;
        int r;

        if (key && (strlen(key) == 0 || strlen(key) > 64))
                return -EINVAL;
        const ProviderAccount *a = &c->account;

        if (strlen(a->account) + a->key->size + 2 > sizeof userpwd || asprintf(&url, "%s%s", a->url, path) < 0)
                return -ENOMEM;
        k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        k->cb = cb;
        k->refund_cb = refund_cb;
        k->userdata = userdata;
        snprintf(k->what, sizeof k->what, "%s %s", method, strncmp(path, "/v3/payments/", 13) == 0 ? "/v3/payments/ID" :
                                                         strncmp(path, "/v3/refunds/", 12) == 0 ? "/v3/refunds/ID" : path);
        snprintf(idempotence, sizeof idempotence, "Idempotence-Key: %s", key ?: "");
        snprintf(userpwd, sizeof userpwd, "%s:%s", a->account, a->key->data);
        r = provider_call(c->calls, &(HttpRequest) { .method = method, .url = url, .headers = headers, .body = body,
                                                     .body_size = body ? strlen(body) : 0, .userpwd = userpwd },
                          on_response, k);
        explicit_bzero(userpwd, sizeof userpwd);
        if (r < 0)
                free(k);
        return r;
}

/* {"customer":{…},"items":[{…}],"tax_system_code":N}: the whole @amount for one @description. */
static json_object *receipt_json(const YooKassaReceipt *r, const char *description, json_object *amount) {
        json_object *o = json_object_new_object(), *customer = json_object_new_object();
        json_object *items = json_object_new_array(), *item = json_object_new_object();

        json_object_object_add(customer, r->email ? "email" : "phone", json_object_new_string(r->email ?: r->phone));
        json_object_object_add(o, "customer", customer);
        json_object_object_add(item, "description", json_object_new_string(description));
        json_object_object_add(item, "quantity", json_object_new_string("1.00"));
        json_object_object_add(item, "amount", json_object_get(amount));
        json_object_object_add(item, "vat_code", json_object_new_int((int) r->vat_code));
        json_object_object_add(item, "payment_mode", json_object_new_string("full_payment"));
        json_object_object_add(item, "payment_subject", json_object_new_string("service"));
        json_object_array_add(items, item);
        json_object_object_add(o, "items", items);
        if (r->tax_system_code > 0)
                json_object_object_add(o, "tax_system_code", json_object_new_int((int) r->tax_system_code));
        return o;
}

int yookassa_create_payment(YooKassaClient *c, const YooKassaCreate *req, YooKassaPaymentFn cb, void *userdata) {
        _cleanup_json_ json_object *o = NULL;
        json_object *amount, *meta;
        _cleanup_free_ char *description = NULL;

        if (!req->idempotence_key || !req->amount || !req->currency || !req->description ||
            !req->return_url == !req->payment_method_id || (req->receipt && !req->receipt->email == !req->receipt->phone))
                return -EINVAL;
        o = json_object_new_object();
        amount = json_object_new_object();
        json_object_object_add(amount, "value", json_object_new_string(req->amount));
        json_object_object_add(amount, "currency", json_object_new_string(req->currency));
        json_object_object_add(o, "amount", amount);
        json_object_object_add(o, "capture", json_object_new_boolean(true));
        if (req->return_url) {
                json_object *conf = json_object_new_object();
                json_object_object_add(conf, "type", json_object_new_string("redirect"));
                json_object_object_add(conf, "return_url", json_object_new_string(req->return_url));
                json_object_object_add(o, "confirmation", conf);
                json_object_object_add(o, "save_payment_method", json_object_new_boolean(req->save_payment_method));
        } else
                json_object_object_add(o, "payment_method_id", json_object_new_string(req->payment_method_id));
        description = strndup(req->description, utf8_prefix(req->description, DESCRIPTION_MAX));
        if (!description)
                return -ENOMEM;
        json_object_object_add(o, "description", json_object_new_string(description));
        if (req->receipt)
                json_object_object_add(o, "receipt", receipt_json(req->receipt, description, amount));
        meta = json_object_new_object();
        if (req->metadata_payment)
                json_object_object_add(meta, "payment", json_object_new_string(req->metadata_payment));
        json_object_object_add(o, "metadata", meta);
        return call(c, "POST", "/v3/payments", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                    req->idempotence_key, cb, NULL, userdata);
}

/* GET @kind/@id: an id is YooKassa's UUID-like token, nothing else goes into the path. */
static int get(YooKassaClient *c, const char *kind, const char *id, YooKassaPaymentFn cb, YooKassaRefundFn refund_cb,
               void *userdata) {
        char path[128];

        if (isempty(id) || strlen(id) > 64 || strspn(id, "0123456789abcdefABCDEF-") != strlen(id))
                return -EINVAL;
        snprintf(path, sizeof path, "/v3/%s/%s", kind, id);
        return call(c, "GET", path, NULL, NULL, cb, refund_cb, userdata);
}

int yookassa_get_payment(YooKassaClient *c, const char *id, YooKassaPaymentFn cb, void *userdata) {
        return get(c, "payments", id, cb, NULL, userdata);
}

int yookassa_get_refund(YooKassaClient *c, const char *id, YooKassaRefundFn cb, void *userdata) {
        return get(c, "refunds", id, NULL, cb, userdata);
}

BreakerState yookassa_client_breaker(const YooKassaClient *c) {
        return provider_calls_breaker(c->calls);
}

int yookassa_client_new(sd_event *e, HttpClient *http, const YooKassaClientOptions *o, YooKassaClient **ret) {
        YooKassaClient *c;
        int r;

        if (!o->url || !o->shop_id || !o->key)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = provider_calls_new(e, http, &(ProviderOptions) { .name = "YooKassa", .max_attempts = o->max_attempts,
                                                             .timeout_usec = o->timeout_usec, .breaker = o->breaker,
                                                             .later = later },
                               &c->calls);
        if (r >= 0)
                r = provider_account_set(&c->account, o->url, o->shop_id, o->key);
        if (r < 0) {
                yookassa_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int yookassa_client_reconfigure(YooKassaClient *c, const char *url, const char *shop_id, const Secret *key) {
        return provider_account_set(&c->account, url, shop_id, key);
}

YooKassaClient *yookassa_client_free(YooKassaClient *c) {
        if (!c)
                return NULL;
        provider_calls_free(c->calls);
        provider_account_done(&c->account);
        free(c);
        return NULL;
}
