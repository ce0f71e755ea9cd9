/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "macro.h"
#include "http-server.h"
#include "route.h"

static const char *const route_names[_ROUTE_MAX] = {
        [ROUTE_NONE] = "none",
        [ROUTE_TELEGRAM] = "telegram",
        [ROUTE_HELEKET] = "heleket",
        [ROUTE_YOOKASSA] = "yookassa",
        [ROUTE_HEALTH] = "health",
        [ROUTE_HEALTH_REDIS] = "health_redis",
        [ROUTE_HEALTH_DB] = "health_db",
        [ROUTE_HEALTH_PAYMENT] = "health_payment",
        [ROUTE_METRICS] = "metrics",
};

static const struct {
        const char *name;
        unsigned status;
} rejects[_REJECT_MAX] = {
        [REJECT_NONE] = { "none", 200 },
        [REJECT_NOT_FOUND] = { "not_found", 404 },
        [REJECT_METHOD] = { "method_not_allowed", 405 },
        [REJECT_CONTENT_TYPE] = { "unsupported_content_type", 415 },
        [REJECT_TOO_LARGE] = { "too_large", 413 },
        [REJECT_BAD_LENGTH] = { "bad_content_length", 400 },
        [REJECT_BAD_SECRET] = { "bad_secret", 401 },
        [REJECT_BAD_SIGNATURE] = { "bad_signature", 403 },
        [REJECT_SOURCE] = { "source_not_allowed", 403 },
        [REJECT_NOT_JSON] = { "not_json", 400 },
        [REJECT_NOT_OBJECT] = { "not_object", 400 },
        [REJECT_MISSING_ID] = { "missing_id", 400 },
        [REJECT_REDIS_DOWN] = { "redis_unavailable", 503 },
        [REJECT_REPLICAS] = { "replicas_not_acknowledged", 503 },
        [REJECT_UNCONFIGURED] = { "not_configured", 503 },
};

const char *route_to_string(RouteId r) {
        return r >= 0 && r < _ROUTE_MAX ? route_names[r] : NULL;
}

const char *reject_to_string(Reject r) {
        return r >= 0 && r < _REJECT_MAX ? rejects[r].name : NULL;
}

unsigned reject_status(Reject r) {
        return r >= 0 && r < _REJECT_MAX ? rejects[r].status : 500;
}

static RouteId match_path(const char *path, char bot[BOT_NAME_MAX + 1]) {
        static const struct {
                const char *path;
                RouteId id;
        } fixed[] = {
                { "/pay/heleket", ROUTE_HELEKET },
                { "/pay/yookassa", ROUTE_YOOKASSA },
                { "/health", ROUTE_HEALTH },
                { "/health/redis", ROUTE_HEALTH_REDIS },
                { "/health/db", ROUTE_HEALTH_DB },
                { "/health/payment", ROUTE_HEALTH_PAYMENT },
                { "/metrics", ROUTE_METRICS },
        };
        const char *b = startswith(path, "/tg/");

        if (b) {
                size_t l = strlen(b);
                if (!bot_name_valid(b, l))
                        return ROUTE_NONE;
                memcpy(bot, b, l + 1);
                return ROUTE_TELEGRAM;
        }
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (streq(path, fixed[i].path))
                        return fixed[i].id;
        return ROUTE_NONE;
}

Reject request_check_head(const RequestHead *h, uint64_t max_body, RouteMatch *ret) {
        RouteMatch m = {};

        /* The route is reported even when refused, for metrics and logs. */
        m.id = match_path(h->path, m.bot);
        *ret = m;
        if (m.id == ROUTE_NONE)
                return REJECT_NOT_FOUND;
        if (!streq(h->method, route_is_intake(m.id) ? "POST" : "GET") &&
            !(!route_is_intake(m.id) && streq(h->method, "HEAD")))
                return REJECT_METHOD;
        if (route_is_intake(m.id)) {
                if (!http_content_type_is_json(h->content_type))
                        return REJECT_CONTENT_TYPE;
                if (h->content_length) {
                        const char *p = h->content_length;
                        uint64_t n = 0;
                        if (!*p)
                                return REJECT_BAD_LENGTH;
                        for (; *p; p++) {
                                if (*p < '0' || *p > '9')
                                        return REJECT_BAD_LENGTH;
                                if (n > max_body)
                                        return REJECT_TOO_LARGE;
                                n = n * 10 + (uint64_t) (*p - '0');
                        }
                        if (n > max_body)
                                return REJECT_TOO_LARGE;
                }
        }
        *ret = m;
        return REJECT_NONE;
}
