/* SPDX-License-Identifier: MIT */
#pragma once

/* What webhookd serves, and the checks on a request's head (method, path, content type,
 * declared length) made before any of its body is read. Pure functions: unit-tested and fuzzed. */

#include <stdint.h>

#include "webhook-secret.h"

typedef enum RouteId {
        ROUTE_NONE,          /* unknown path */
        ROUTE_TELEGRAM,      /* POST /tg/<bot> */
        ROUTE_HELEKET,       /* POST /pay/heleket */
        ROUTE_YOOKASSA,      /* POST /pay/yookassa */
        ROUTE_HEALTH,        /* GET /health */
        ROUTE_HEALTH_REDIS,  /* GET /health/redis */
        ROUTE_HEALTH_DB,     /* GET /health/db */
        ROUTE_HEALTH_PAYMENT, /* GET /health/payment */
        ROUTE_METRICS,       /* GET /metrics */
        _ROUTE_MAX,
} RouteId;

/* Reasons a request is refused; the same words are used in logs (REASON=) and metrics. */
typedef enum Reject {
        REJECT_NONE,
        REJECT_NOT_FOUND,
        REJECT_METHOD,
        REJECT_CONTENT_TYPE,
        REJECT_TOO_LARGE,
        REJECT_BAD_LENGTH,
        REJECT_BAD_SECRET,
        REJECT_BAD_SIGNATURE,
        REJECT_SOURCE,
        REJECT_NOT_JSON,
        REJECT_NOT_OBJECT,
        REJECT_MISSING_ID,
        REJECT_REDIS_DOWN,
        REJECT_REPLICAS,
        REJECT_UNCONFIGURED,
        _REJECT_MAX,
} Reject;

typedef struct RouteMatch {
        RouteId id;
        char bot[BOT_NAME_MAX + 1]; /* for ROUTE_TELEGRAM */
} RouteMatch;

/* The parts of a request head that matter here; any may be NULL except method and path. */
typedef struct RequestHead {
        const char *method;
        const char *path;
        const char *content_type;
        const char *content_length;
} RequestHead;

/* Matches the path and checks the head. Fills @ret with the route matched (ROUTE_NONE for an
 * unknown path) and returns REJECT_NONE when the request may proceed to its body; otherwise the
 * reason, and reject_status() gives the answer. */
Reject request_check_head(const RequestHead *h, uint64_t max_body, RouteMatch *ret);

/* The HTTP status a rejection is answered with. */
unsigned reject_status(Reject r);

/* Stable names: "bad_secret", "too_large", … */
const char *reject_to_string(Reject r);
const char *route_to_string(RouteId r);

/* True for routes that accept provider or Telegram POSTs. */
static inline bool route_is_intake(RouteId r) {
        return r == ROUTE_TELEGRAM || r == ROUTE_HELEKET || r == ROUTE_YOOKASSA;
}
