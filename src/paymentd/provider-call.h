/* SPDX-License-Identifier: MIT */
#pragma once

/* The calls paymentd makes to one payment provider (Heleket, YooKassa), on the loop's curl multi:
 * a transport failure or a 5xx is tried again with the very same request (100 ms × 2ⁿ with
 * jitter, at most 5 s, as the providers' SDKs do), an answer that says "later" (YooKassa's 202)
 * after the delay it names; a circuit breaker turns a provider that keeps failing into an
 * immediate -EAGAIN. What the answer means is the caller's business. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "breaker.h"
#include "creds.h"
#include "http-client.h"

typedef struct ProviderCalls ProviderCalls;

/* Where and as whom a provider is called: its base URL, the account (Heleket's merchant,
 * YooKassa's shop id) and its key. */
typedef struct ProviderAccount {
        char *url;
        char *account;
        Secret *key;
} ProviderAccount;

/* Replaces @a's values with copies of @url, @account and @key (a start, a reload). Returns 0, or
 * -ENOMEM with @a unchanged. */
int provider_account_set(ProviderAccount *a, const char *url, const char *account, const Secret *key);

/* Frees @a's values (the key wiped). */
void provider_account_done(ProviderAccount *a);

/* The final answer of a call (r->error < 0 when the transport failed every attempt, -ECANCELED
 * when freed). @r is valid during the callback only. */
typedef void (*ProviderResponseFn)(const HttpResponse *r, void *userdata);

/* NULL, or: the delay in µs after which an answer that is no failure asks to be repeated
 * (YooKassa's 202 and its retry_after), or 0 for a final answer. */
typedef uint64_t (*ProviderLaterFn)(const HttpResponse *r);

typedef struct ProviderOptions {
        const char *name;          /* "Heleket": logs */
        unsigned max_attempts;     /* per call, first included (default 3) */
        uint64_t timeout_usec;     /* per attempt (default 15 s) */
        Breaker breaker;           /* thresholds (default 5 failures, 60 s) */
        ProviderLaterFn later;
} ProviderOptions;

/* Returns 0 or -ENOMEM. @http must outlive the result. */
int provider_calls_new(sd_event *e, HttpClient *http, const ProviderOptions *o, ProviderCalls **ret);

/* Makes @req (copied, every attempt the same bytes; its timeout is the options'). Returns 0 (then
 * @cb gets exactly one call, from the loop), -EAGAIN (the breaker is open), -ENOMEM or -EINVAL. */
int provider_call(ProviderCalls *pc, const HttpRequest *req, ProviderResponseFn cb, void *userdata);

BreakerState provider_calls_breaker(const ProviderCalls *pc);

/* Free the HttpClient first: that ends the calls in flight (-ECANCELED). This ends those waiting
 * for a retry the same way. Accepts NULL; returns NULL. */
ProviderCalls *provider_calls_free(ProviderCalls *pc);
