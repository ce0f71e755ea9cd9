/* SPDX-License-Identifier: MIT */
/* Which handler answers which method and path. Who may ask was decided on the head
 * (request.c): /health, /openapi.json and /docs are public; everything else needs
 * "Authorization: Bearer <api-token>". */

#include <string.h>
#include <strings.h>

#include "request.h"
#include "tenant.h"

static bool is(Request *q, const char *method) {
        return streq(q->method, method);
}

/* "/api/clients/<id>[/<verb>]": the id and the rest ("" or "/verb"), or false. */
static bool client_path(const char *path, int64_t *id, const char **rest) {
        char digits[24];
        size_t n;

        if (!startswith(path, "/api/clients/"))
                return false;
        path += strlen("/api/clients/");
        n = strspn(path, "0123456789");
        if (n == 0 || n >= sizeof digits)
                return false;
        memcpy(digits, path, n);
        digits[n] = 0;
        if (tenant_id_parse(digits, id) < 0)
                return false;
        *rest = path + n;
        return true;
}

static void method_not_allowed(Request *q) {
        request_reply_error(q, 405, "method_not_allowed", "%s is not allowed on %s.", q->method, q->path);
}

static void route_clients(Request *q, int64_t id, const char *rest) {
        static const char *const verbs[] = { "suspend", "resume", "redeploy" };

        if (isempty(rest)) {
                if (is(q, "GET"))
                        return clients_get(q, id);
                if (is(q, "DELETE"))
                        return clients_action(q, id, "remove");
                return method_not_allowed(q);
        }
        if (streq(rest, "/extend"))
                return is(q, "POST") ? clients_extend(q, id) : method_not_allowed(q);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (rest[0] == '/' && streq(rest + 1, verbs[i]))
                        return is(q, "POST") ? clients_action(q, id, verbs[i]) : method_not_allowed(q);
        request_reply_error(q, 404, "not_found", "No such resource: %s.", q->path);
}

void route_request(Request *q) {
        const char *p = q->path, *rest;
        int64_t id;

        if (streq(p, "/health"))
                return is(q, "GET") ? ops_health(q) : method_not_allowed(q);
        if (streq(p, "/openapi.json"))
                return is(q, "GET") ? docs_openapi(q) : method_not_allowed(q);
        if (streq(p, "/docs") || streq(p, "/docs/"))
                return is(q, "GET") ? docs_page(q) : method_not_allowed(q);
        if (!startswith(p, "/api/") && !streq(p, "/metrics"))
                return request_reply_error(q, 404, "not_found", "No such resource: %s.", p);
        /* Past here the bearer token was checked on the head (request_on_head()). */
        if (streq(p, "/metrics"))
                return is(q, "GET") ? ops_metrics(q) : method_not_allowed(q);
        if (streq(p, "/api/clients")) {
                if (is(q, "GET"))
                        return clients_list(q);
                if (is(q, "POST"))
                        return clients_create(q);
                return method_not_allowed(q);
        }
        if (client_path(p, &id, &rest))
                return route_clients(q, id, rest);
        if (streq(p, "/api/orders"))
                return is(q, "GET") ? orders_list(q) : method_not_allowed(q);
        if ((rest = startswith(p, "/api/orders/"))) {
                /* An order's public id, as the orders table allows it. */
                size_t n = strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
                if (n == 0 || n > 128 || rest[n])
                        return request_reply_error(q, 404, "not_found", "No such order.");
                return is(q, "GET") ? orders_get(q, rest) : method_not_allowed(q);
        }
        if (streq(p, "/api/payments"))
                return is(q, "GET") ? payments_list(q) : method_not_allowed(q);
        if (streq(p, "/api/queue"))
                return is(q, "GET") ? ops_queue(q) : method_not_allowed(q);
        if (startswith(p, "/api/queue/") && endswith(p, "/retry")) {
                char task[24];
                size_t n = strlen(p) - strlen("/api/queue/") - strlen("/retry");
                if (n == 0 || n >= sizeof task)
                        return request_reply_error(q, 404, "not_found", "No such task.");
                memcpy(task, p + strlen("/api/queue/"), n);
                task[n] = 0;
                return is(q, "POST") ? ops_retry(q, task) : method_not_allowed(q);
        }
        if (streq(p, "/api/stats"))
                return is(q, "GET") ? ops_stats(q) : method_not_allowed(q);
        request_reply_error(q, 404, "not_found", "No such resource: %s.", p);
}
