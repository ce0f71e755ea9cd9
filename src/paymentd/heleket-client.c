/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <strings.h>

#include "heleket-client.h"
#include "heleket-sign.h"
#include "json-util.h"
#include "log.h"
#include "php-json.h"

#define BACKOFF_BASE_USEC (100 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (5 * USEC_PER_SEC)

struct HeleketClient {
        sd_event *event;
        HttpClient *http;
        char *url;
        char *merchant;
        Secret *key;
        unsigned max_attempts;
        uint64_t timeout_usec;
        Breaker breaker;
        struct Call *calls;    /* under way, for cancellation */
};

typedef struct Call {
        struct Call *prev, *next;
        HeleketClient *client;
        char *path;
        char *body;            /* the exact bytes signed and sent */
        char sign[HELEKET_SIGN_SIZE];
        unsigned attempt;
        sd_event_source *backoff;
        bool in_flight;
        HeleketInvoiceFn cb;
        void *userdata;
} Call;

static void call_unlink_free(Call *k) {
        HeleketClient *c = k->client;

        if (k->prev)
                k->prev->next = k->next;
        else
                c->calls = k->next;
        if (k->next)
                k->next->prev = k->prev;
        sd_event_source_disable_unref(k->backoff);
        free(k->path);
        free(k->body);
        free(k);
}

static void call_finish(Call *k, int error, const HeleketInvoice *inv) {
        k->cb(error, inv, k->userdata);
        call_unlink_free(k);
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

static void attempt(Call *k);

static int on_backoff(sd_event_source *s, uint64_t usec, void *userdata) {
        Call *k = userdata;
        (void) s, (void) usec;
        k->backoff = sd_event_source_disable_unref(k->backoff);
        attempt(k);
        return 0;
}

static void on_response(HttpClient *h, const HttpResponse *r, void *userdata) {
        Call *k = userdata;
        HeleketClient *c = k->client;
        _cleanup_json_ json_object *o = NULL;
        HeleketInvoice inv;
        json_object *state, *result;
        uint64_t now;
        (void) h;

        k->in_flight = false;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (r->error == -ECANCELED) {
                call_finish(k, -ECANCELED, NULL);
                return;
        }
        /* Transport failures and 5xx: the provider is unwell. Retry, then count it. */
        if (r->error < 0 || r->status >= 500) {
                if (k->attempt < c->max_attempts) {
                        uint64_t delay = MIN(BACKOFF_BASE_USEC << (k->attempt - 1), BACKOFF_MAX_USEC);
                        delay += (uint64_t) random() % (delay / 2 + 1);   /* jitter */
                        if (sd_event_add_time_relative(c->event, &k->backoff, CLOCK_MONOTONIC, delay, 0, on_backoff, k) >= 0)
                                return;
                }
                breaker_record(&c->breaker, false, now);
                log_warning("Heleket %s failed after %u attempts: %s", k->path, k->attempt,
                            r->error < 0 ? strerror(-r->error) : "server error");
                call_finish(k, r->error < 0 ? r->error : -EIO, NULL);
                return;
        }
        /* It answered: healthy, whatever it said. */
        breaker_record(&c->breaker, true, now);
        if (json_parse(r->body, r->size, &o) < 0 || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "state", &state)) {
                call_finish(k, -EIO, NULL);
                return;
        }
        if (json_object_get_int(state) != 0 || r->status != 200) {
                json_object *errors = json_object_object_get(o, "errors");
                /* Its message, or which fields failed which rule (names only, never values). */
                log_warning("Heleket refused %s (HTTP %ld): %s", k->path, r->status,
                            json_get_string(o, "message") ?:
                            (errors ? json_object_to_json_string_ext(errors, JSON_C_TO_STRING_PLAIN) : "no reason given"));
                call_finish(k, r->status == 404 ? -ENOENT : r->status == 401 || r->status == 403 ? -EPERM
                               : r->status == 422 ? -EINVAL : -EIO, NULL);
                return;
        }
        if (!json_object_object_get_ex(o, "result", &result) || parse_invoice(result, &inv) < 0) {
                call_finish(k, -EIO, NULL);
                return;
        }
        call_finish(k, 0, &inv);
}

static void attempt(Call *k) {
        HeleketClient *c = k->client;
        _cleanup_free_ char *url = NULL;
        char merchant[300], sign[64];
        const char *headers[] = { "Content-Type: application/json", merchant, sign, NULL };

        k->attempt++;
        if (asprintf(&url, "%s%s", c->url, k->path) < 0) {
                call_finish(k, -ENOMEM, NULL);
                return;
        }
        snprintf(merchant, sizeof merchant, "merchant: %s", c->merchant);
        snprintf(sign, sizeof sign, "sign: %s", k->sign);
        k->in_flight = true;
        if (http_client_request(c->http, &(HttpRequest) { .method = "POST", .url = url, .headers = headers,
                                                          .body = k->body, .body_size = strlen(k->body),
                                                          .timeout_usec = c->timeout_usec },
                                on_response, k) < 0) {
                k->in_flight = false;
                call_finish(k, -ENOMEM, NULL);
        }
}

/* Signs @params' PHP encoding and starts the call. Takes @params. */
static int start(HeleketClient *c, const char *path, json_object *params, HeleketInvoiceFn cb, void *userdata) {
        struct printbuf *pb = printbuf_new();
        uint64_t now;
        Call *k;
        int r;

        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (!breaker_allow(&c->breaker, now)) {
                json_object_put(params);
                printbuf_free(pb);
                return -EAGAIN;
        }
        k = calloc(1, sizeof *k);
        if (!pb || !k || php_json_encode(params, NULL, pb) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        k->client = c;
        k->cb = cb;
        k->userdata = userdata;
        k->path = strdup(path);
        k->body = strndup(pb->buf, (size_t) pb->bpos);
        if (!k->path || !k->body || heleket_sign(k->body, strlen(k->body), c->key->data, c->key->size, k->sign) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        k->next = c->calls;
        if (c->calls)
                c->calls->prev = k;
        c->calls = k;
        printbuf_free(pb);
        json_object_put(params);
        attempt(k);
        return 0;
fail:
        /* Allowed by the breaker but never made: do not leave a half-open probe hanging. */
        breaker_record(&c->breaker, true, now);
        if (k) {
                free(k->path);
                free(k->body);
                free(k);
        }
        if (pb)
                printbuf_free(pb);
        json_object_put(params);
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
        return c->breaker.state;
}

int heleket_client_new(sd_event *e, HttpClient *http, const HeleketClientOptions *o, HeleketClient **ret) {
        HeleketClient *c;

        if (!o->url || !o->merchant || !o->key)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->http = http;
        c->url = strdup(o->url);
        c->merchant = strdup(o->merchant);
        c->key = malloc(sizeof *c->key + o->key->size + 1);
        if (!c->url || !c->merchant || !c->key) {
                heleket_client_free(c);
                return -ENOMEM;
        }
        memcpy(c->key, o->key, sizeof *o->key + o->key->size + 1);
        c->max_attempts = o->max_attempts ?: 3;
        c->timeout_usec = o->timeout_usec ?: 15 * USEC_PER_SEC;
        c->breaker = o->breaker.threshold ? o->breaker : BREAKER_INIT(5, 60 * USEC_PER_SEC);
        *ret = c;
        return 0;
}

int heleket_client_reconfigure(HeleketClient *c, const char *url, const char *merchant, const Secret *key) {
        _cleanup_free_ char *u = strdup(url), *m = strdup(merchant);
        Secret *k = secret_new(key->data, key->size);

        if (!u || !m || !k) {
                secret_free(k);
                return -ENOMEM;
        }
        free(c->url);
        free(c->merchant);
        secret_free(c->key);
        c->url = TAKE_PTR(u);
        c->merchant = TAKE_PTR(m);
        c->key = k;
        return 0;
}

HeleketClient *heleket_client_free(HeleketClient *c) {
        if (!c)
                return NULL;
        /* Calls waiting for a retry end here; calls in flight end when the HTTP client is freed. */
        for (Call *k = c->calls, *next; k; k = next) {
                next = k->next;
                if (!k->in_flight)
                        call_finish(k, -ECANCELED, NULL);
        }
        free(c->url);
        free(c->merchant);
        secret_free(c->key);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
