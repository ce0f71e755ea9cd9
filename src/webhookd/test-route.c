/* SPDX-License-Identifier: MIT */
#include "route.h"
#include "test-util.h"

#define MAX_BODY (1024 * 1024)

static Reject check(const char *method, const char *path, const char *ct, const char *cl, RouteMatch *m) {
        RequestHead h = { .method = method, .path = path, .content_type = ct, .content_length = cl };
        return request_check_head(&h, MAX_BODY, m);
}

int main(void) {
        RouteMatch m;

        assert(check("POST", "/tg/shop_bot", "application/json", "100", &m) == REJECT_NONE);
        assert(m.id == ROUTE_TELEGRAM && streq(m.bot, "shop_bot"));
        assert(check("POST", "/pay/heleket", "application/json; charset=utf-8", NULL, &m) == REJECT_NONE);
        assert(m.id == ROUTE_HELEKET);
        assert(check("POST", "/pay/yookassa", "Application/JSON", "1048576", &m) == REJECT_NONE);
        assert(m.id == ROUTE_YOOKASSA);
        assert(check("GET", "/health", NULL, NULL, &m) == REJECT_NONE && m.id == ROUTE_HEALTH);
        assert(check("GET", "/health/redis", NULL, NULL, &m) == REJECT_NONE && m.id == ROUTE_HEALTH_REDIS);
        assert(check("GET", "/health/db", NULL, NULL, &m) == REJECT_NONE && m.id == ROUTE_HEALTH_DB);
        assert(check("GET", "/health/payment", NULL, NULL, &m) == REJECT_NONE && m.id == ROUTE_HEALTH_PAYMENT);
        assert(check("POST", "/health/payment", NULL, NULL, &m) == REJECT_METHOD);
        assert(check("HEAD", "/metrics", NULL, NULL, &m) == REJECT_NONE && m.id == ROUTE_METRICS);

        /* unknown path → 404 */
        assert(check("POST", "/", "application/json", NULL, &m) == REJECT_NOT_FOUND);
        assert(check("POST", "/tg/", "application/json", NULL, &m) == REJECT_NOT_FOUND);
        assert(check("POST", "/tg/a/b", "application/json", NULL, &m) == REJECT_NOT_FOUND);
        assert(check("POST", "/tg/../x", "application/json", NULL, &m) == REJECT_NOT_FOUND);
        assert(check("POST", "/pay/heleket/", "application/json", NULL, &m) == REJECT_NOT_FOUND);
        assert(check("POST", "/tg/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "application/json", NULL, &m) ==
               REJECT_NOT_FOUND);
        assert(reject_status(REJECT_NOT_FOUND) == 404);

        /* wrong method → 405 */
        assert(check("GET", "/tg/shop_bot", NULL, NULL, &m) == REJECT_METHOD);
        assert(check("PUT", "/pay/heleket", "application/json", NULL, &m) == REJECT_METHOD);
        assert(check("POST", "/health", "application/json", NULL, &m) == REJECT_METHOD);
        assert(reject_status(REJECT_METHOD) == 405);

        /* wrong Content-Type → 415 */
        assert(check("POST", "/tg/shop_bot", NULL, NULL, &m) == REJECT_CONTENT_TYPE);
        assert(check("POST", "/tg/shop_bot", "text/plain", NULL, &m) == REJECT_CONTENT_TYPE);
        assert(check("POST", "/tg/shop_bot", "application/jsonx", NULL, &m) == REJECT_CONTENT_TYPE);
        assert(check("POST", "/pay/heleket", "application/x-www-form-urlencoded", NULL, &m) == REJECT_CONTENT_TYPE);
        assert(reject_status(REJECT_CONTENT_TYPE) == 415);

        /* body over the limit → 413, before any of it is read */
        assert(check("POST", "/tg/shop_bot", "application/json", "1048577", &m) == REJECT_TOO_LARGE);
        assert(check("POST", "/tg/shop_bot", "application/json", "99999999999999999999999", &m) == REJECT_TOO_LARGE);
        assert(reject_status(REJECT_TOO_LARGE) == 413);
        assert(check("POST", "/tg/shop_bot", "application/json", "12a", &m) == REJECT_BAD_LENGTH);
        assert(check("POST", "/tg/shop_bot", "application/json", "-1", &m) == REJECT_BAD_LENGTH);

        /* the other answers of the table */
        assert(reject_status(REJECT_BAD_SECRET) == 401);
        assert(reject_status(REJECT_BAD_SIGNATURE) == 403);
        assert(reject_status(REJECT_SOURCE) == 403);
        assert(reject_status(REJECT_NOT_JSON) == 400);
        assert(reject_status(REJECT_NOT_OBJECT) == 400);
        assert(reject_status(REJECT_MISSING_ID) == 400);
        assert(reject_status(REJECT_REDIS_DOWN) == 503);

        for (int i = 0; i < _REJECT_MAX; i++)
                assert(reject_to_string(i));
        for (int i = 0; i < _ROUTE_MAX; i++)
                assert(route_to_string(i));
        return 0;
}
