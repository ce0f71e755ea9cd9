/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider-call.h"

#define BACKOFF_BASE_USEC (100 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (5 * USEC_PER_SEC)
#define HEADERS_MAX 8

struct ProviderCalls {
        sd_event *event;
        HttpClient *http;
        ProviderOptions opts;
        char *name;
        struct Call *calls;    /* under way, for cancellation */
};

typedef struct Call {
        struct Call *prev, *next;
        ProviderCalls *pc;
        char *method, *url, *body, *userpwd;
        size_t body_size;
        char *headers[HEADERS_MAX + 1];
        unsigned attempt;
        sd_event_source *backoff;
        bool in_flight;
        ProviderResponseFn cb;
        void *userdata;
} Call;

static void call_free(Call *k) {
        ProviderCalls *pc = k->pc;

        if (k->prev)
                k->prev->next = k->next;
        else if (pc->calls == k)
                pc->calls = k->next;
        if (k->next)
                k->next->prev = k->prev;
        sd_event_source_disable_unref(k->backoff);
        free(k->method);
        free(k->url);
        free(k->body);
        if (k->userpwd) {
                explicit_bzero(k->userpwd, strlen(k->userpwd));   /* a provider's secret key */
                free(k->userpwd);
        }
        for (char **h = k->headers; *h; h++)
                free(*h);
        free(k);
}

static void call_finish(Call *k, const HttpResponse *r) {
        k->cb(r, k->userdata);
        call_free(k);
}

static void attempt(Call *k);

static int on_backoff(sd_event_source *s, uint64_t usec, void *userdata) {
        Call *k = userdata;
        (void) s, (void) usec;

        k->backoff = sd_event_source_disable_unref(k->backoff);
        attempt(k);
        return 0;
}

/* Tries @k again after @delay; false when it cannot. */
static bool again(Call *k, uint64_t delay) {
        return sd_event_add_time_relative(k->pc->event, &k->backoff, CLOCK_MONOTONIC, delay, 0, on_backoff, k) >= 0;
}

static void on_response(HttpClient *h, const HttpResponse *r, void *userdata) {
        Call *k = userdata;
        ProviderCalls *pc = k->pc;
        uint64_t now, later;
        (void) h;

        k->in_flight = false;
        if (r->error == -ECANCELED)
                return call_finish(k, r);
        (void) sd_event_now(pc->event, CLOCK_MONOTONIC, &now);
        /* Transport failures and 5xx: the provider is unwell. Again, then count it. */
        if (r->error < 0 || r->status >= 500) {
                if (k->attempt < pc->opts.max_attempts) {
                        uint64_t delay = MIN(BACKOFF_BASE_USEC << (k->attempt - 1), BACKOFF_MAX_USEC);
                        delay += (uint64_t) random() % (delay / 2 + 1);   /* jitter */
                        if (again(k, delay))
                                return;
                }
                breaker_record(&pc->opts.breaker, false, now);
                log_warning("%s %s failed after %u attempts: %s", pc->name, k->url, k->attempt,
                            r->error < 0 ? strerror(-r->error) : "server error");
                return call_finish(k, r);
        }
        /* It answered: healthy, whatever it said. */
        breaker_record(&pc->opts.breaker, true, now);
        later = pc->opts.later ? pc->opts.later(r) : 0;
        if (later > 0 && k->attempt < pc->opts.max_attempts && again(k, later))
                return;
        call_finish(k, r);
}

static void attempt(Call *k) {
        ProviderCalls *pc = k->pc;
        int r;

        k->attempt++;
        k->in_flight = true;
        r = http_client_request(pc->http, &(HttpRequest) {
                                        .method = k->method, .url = k->url, .headers = (const char *const *) k->headers,
                                        .body = k->body, .body_size = k->body_size, .userpwd = k->userpwd,
                                        .timeout_usec = pc->opts.timeout_usec,
                                }, on_response, k);
        if (r < 0) {
                k->in_flight = false;
                call_finish(k, &(HttpResponse) { .error = r });
        }
}

int provider_call(ProviderCalls *pc, const HttpRequest *req, ProviderResponseFn cb, void *userdata) {
        uint64_t now;
        size_t n = 0;
        Call *k;

        if (!req->method || !req->url)
                return -EINVAL;
        for (const char *const *h = req->headers; h && *h; h++)
                if (++n > HEADERS_MAX)
                        return -EINVAL;
        (void) sd_event_now(pc->event, CLOCK_MONOTONIC, &now);
        if (!breaker_allow(&pc->opts.breaker, now))
                return -EAGAIN;
        k = calloc(1, sizeof *k);
        if (!k)
                goto oom;
        k->pc = pc;
        k->cb = cb;
        k->userdata = userdata;
        k->method = strdup(req->method);
        k->url = strdup(req->url);
        k->body_size = req->body ? req->body_size : 0;
        k->body = req->body ? strndup(req->body, req->body_size) : NULL;
        k->userpwd = req->userpwd ? strdup(req->userpwd) : NULL;
        for (size_t i = 0; i < n; i++)
                if (!(k->headers[i] = strdup(req->headers[i])))
                        goto oom;
        if (!k->method || !k->url || (req->body && !k->body) || (req->userpwd && !k->userpwd))
                goto oom;
        k->next = pc->calls;
        if (pc->calls)
                pc->calls->prev = k;
        pc->calls = k;
        attempt(k);
        return 0;
oom:
        /* Allowed by the breaker but never made: no half-open probe is left hanging. */
        breaker_record(&pc->opts.breaker, true, now);
        if (k)
                call_free(k);
        return -ENOMEM;
}

BreakerState provider_calls_breaker(const ProviderCalls *pc) {
        return pc->opts.breaker.state;
}

int provider_calls_new(sd_event *e, HttpClient *http, const ProviderOptions *o, ProviderCalls **ret) {
        ProviderCalls *pc = calloc(1, sizeof *pc);

        if (!pc)
                return -ENOMEM;
        pc->name = strdup(o->name ?: "provider");
        if (!pc->name) {
                free(pc);
                return -ENOMEM;
        }
        pc->event = sd_event_ref(e);
        pc->http = http;
        pc->opts = *o;
        pc->opts.name = pc->name;
        pc->opts.max_attempts = o->max_attempts ?: 3;
        pc->opts.timeout_usec = o->timeout_usec ?: 15 * USEC_PER_SEC;
        if (!o->breaker.threshold)
                pc->opts.breaker = BREAKER_INIT(5, 60 * USEC_PER_SEC);
        *ret = pc;
        return 0;
}

ProviderCalls *provider_calls_free(ProviderCalls *pc) {
        if (!pc)
                return NULL;
        /* Calls waiting for a retry end here; calls in flight end when the HTTP client is freed. */
        for (Call *k = pc->calls, *next; k; k = next) {
                next = k->next;
                if (!k->in_flight)
                        call_finish(k, &(HttpResponse) { .error = -ECANCELED });
        }
        free(pc->name);
        sd_event_unref(pc->event);
        free(pc);
        return NULL;
}

int provider_account_set(ProviderAccount *a, const char *url, const char *account, const Secret *key) {
        _cleanup_free_ char *u = strdup(url), *n = strdup(account);
        Secret *k = secret_new(key->data, key->size);

        if (!u || !n || !k) {
                secret_free(k);
                return -ENOMEM;
        }
        provider_account_done(a);
        a->url = TAKE_PTR(u);
        a->account = TAKE_PTR(n);
        a->key = k;
        return 0;
}

void provider_account_done(ProviderAccount *a) {
        free(a->url);
        free(a->account);
        secret_free(a->key);
        *a = (ProviderAccount) {};
}
