/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <strings.h>

#include "heleket-client.h"
#include "heleket-sign.h"
#include "json-util.h"
#include "log.h"
#include "php-json.h"
#include "provider-call.h"

struct HeleketClient {
        ProviderCalls *calls;
        ProviderAccount account;    /* the merchant is the account */
};

typedef struct Call {
        char *path;
        HeleketInvoiceFn cb;
        void *userdata;
} Call;

static void call_finish(Call *k, int error, const HeleketInvoice *inv) {
        k->cb(error, inv, k->userdata);
        free(k->path);
        free(k);
}

static void copy_field(json_object *o, const char *key, char *buf, size_t size) {
        const char *v = json_get_string(o, key);
        snprintf(buf, size, "%s", v ? v : "");
}

/* {"state":0,"result":{…invoice…}} → HeleketInvoice. Returns 0 or -EIO. */
static int parse_invoice(json_object *result, HeleketInvoice *ret) {
        HeleketInvoice inv = {};
        json_object *v;

        if (!json_object_is_type(result, json_type_object) || !json_get_string(result, "uuid"))
                return -EIO;
        copy_field(result, "uuid", inv.uuid, sizeof inv.uuid);
        copy_field(result, "order_id", inv.order_id, sizeof inv.order_id);
        copy_field(result, "amount", inv.amount, sizeof inv.amount);
        copy_field(result, "payment_amount", inv.payment_amount, sizeof inv.payment_amount);
        copy_field(result, "payment_amount_usd", inv.payment_amount_usd, sizeof inv.payment_amount_usd);
        copy_field(result, "currency", inv.currency, sizeof inv.currency);
        copy_field(result, "payer_currency", inv.payer_currency, sizeof inv.payer_currency);
        copy_field(result, "url", inv.url, sizeof inv.url);
        copy_field(result, json_get_string(result, "payment_status") ? "payment_status" : "status", inv.status,
                   sizeof inv.status);
        if (json_object_object_get_ex(result, "is_final", &v))
                inv.is_final = json_object_get_boolean(v);
        (void) json_get_int64(result, "expired_at", &inv.expired_at);
        *ret = inv;
        return 0;
}

const char *heleket_paid_in_invoice_currency(const HeleketInvoice *inv) {
        if (strcasecmp(inv->currency, "USD") == 0 && inv->payment_amount_usd[0])
                return inv->payment_amount_usd;
        if (inv->payer_currency[0] && strcasecmp(inv->payer_currency, inv->currency) == 0 && inv->payment_amount[0])
                return inv->payment_amount;
        return NULL;
}

static void on_response(const HttpResponse *r, void *userdata) {
        Call *k = userdata;
        _cleanup_json_ json_object *o = NULL;
        HeleketInvoice inv;
        json_object *state, *result;

        if (r->error < 0 || r->status >= 500)
                return call_finish(k, r->error < 0 ? r->error : -EIO, NULL);   /* after the retries */
        if (json_parse(r->body, r->size, &o) < 0 || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "state", &state))
                return call_finish(k, -EIO, NULL);
        if (json_object_get_int(state) != 0 || r->status != 200) {
                json_object *errors = json_object_object_get(o, "errors");
                /* Its message, or which fields failed which rule (names only, never values). */
                log_warning("Heleket refused %s (HTTP %ld): %s", k->path, r->status,
                            json_get_string(o, "message") ?:
                            (errors ? json_object_to_json_string_ext(errors, JSON_C_TO_STRING_PLAIN) : "no reason given"));
                return call_finish(k, r->status == 404 ? -ENOENT : r->status == 401 || r->status == 403 ? -EPERM
                                      : r->status == 422 ? -EINVAL : -EIO, NULL);
        }
        if (!json_object_object_get_ex(o, "result", &result) || parse_invoice(result, &inv) < 0)
                return call_finish(k, -EIO, NULL);
        call_finish(k, 0, &inv);
}

/* Signs @params' PHP encoding and starts the call. Takes @params. */
static int start(HeleketClient *c, const char *path, json_object *params, HeleketInvoiceFn cb, void *userdata) {
        _cleanup_json_ json_object *owned = params;
        _cleanup_free_ char *url = NULL;
        char merchant[300], sign[64], signature[HELEKET_SIGN_SIZE];
        const char *headers[] = { "Content-Type: application/json", merchant, sign, NULL };
        struct printbuf *pb = printbuf_new();
        Call *k = calloc(1, sizeof *k);
        int r = -ENOMEM;

        if (!pb || !k || php_json_encode(owned, NULL, pb) < 0 ||
            heleket_sign(pb->buf, (size_t) pb->bpos, c->account.key->data, c->account.key->size, signature) < 0 ||
            asprintf(&url, "%s%s", c->account.url, path) < 0 || !(k->path = strdup(path)))
                goto fail;
        snprintf(merchant, sizeof merchant, "merchant: %s", c->account.account);
        snprintf(sign, sizeof sign, "sign: %s", signature);
        k->cb = cb;
        k->userdata = userdata;
        r = provider_call(c->calls, &(HttpRequest) { .method = "POST", .url = url, .headers = headers,
                                                     .body = pb->buf, .body_size = (size_t) pb->bpos },
                          on_response, k);
        if (r < 0)
                goto fail;
        printbuf_free(pb);
        return 0;
fail:
        if (k)
                free(k->path);
        free(k);
        if (pb)
                printbuf_free(pb);
        return r;
}

int heleket_create_invoice(HeleketClient *c, const HeleketCreate *req, HeleketInvoiceFn cb, void *userdata) {
        json_object *p;

        if (!req->order_id || !req->amount || !req->currency)
                return -EINVAL;
        p = json_object_new_object();
        json_object_object_add(p, "amount", json_object_new_string(req->amount));
        json_object_object_add(p, "currency", json_object_new_string(req->currency));
        json_object_object_add(p, "order_id", json_object_new_string(req->order_id));
        if (req->url_callback)
                json_object_object_add(p, "url_callback", json_object_new_string(req->url_callback));
        if (req->lifetime_sec)
                json_object_object_add(p, "lifetime", json_object_new_int((int) req->lifetime_sec));
        if (req->additional_data)
                json_object_object_add(p, "additional_data", json_object_new_string(req->additional_data));
        return start(c, "/v1/payment", p, cb, userdata);
}

int heleket_payment_info(HeleketClient *c, const char *uuid, const char *order_id, HeleketInvoiceFn cb,
                         void *userdata) {
        json_object *p;

        if (!uuid && !order_id)
                return -EINVAL;
        p = json_object_new_object();
        json_object_object_add(p, uuid ? "uuid" : "order_id", json_object_new_string(uuid ? uuid : order_id));
        return start(c, "/v1/payment/info", p, cb, userdata);
}

BreakerState heleket_client_breaker(const HeleketClient *c) {
        return provider_calls_breaker(c->calls);
}

int heleket_client_new(sd_event *e, HttpClient *http, const HeleketClientOptions *o, HeleketClient **ret) {
        HeleketClient *c;
        int r;

        if (!o->url || !o->merchant || !o->key)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = provider_calls_new(e, http, &(ProviderOptions) { .name = "Heleket", .max_attempts = o->max_attempts,
                                                             .timeout_usec = o->timeout_usec, .breaker = o->breaker },
                               &c->calls);
        if (r >= 0)
                r = provider_account_set(&c->account, o->url, o->merchant, o->key);
        if (r < 0) {
                heleket_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int heleket_client_reconfigure(HeleketClient *c, const char *url, const char *merchant, const Secret *key) {
        return provider_account_set(&c->account, url, merchant, key);
}

HeleketClient *heleket_client_free(HeleketClient *c) {
        if (!c)
                return NULL;
        provider_calls_free(c->calls);
        provider_account_done(&c->account);
        free(c);
        return NULL;
}
