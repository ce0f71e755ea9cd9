/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deploy-bus.h"
#include "json-util.h"
#include "log.h"
#include "request.h"

const char *request_arg(Request *q, const char *key) {
        return http_exchange_arg(q->x, key);
}

bool request_int_arg(Request *q, const char *key, int64_t min, int64_t max, int64_t def, int64_t *ret) {
        const char *s = request_arg(q, key);
        char *end;
        long long v;

        if (!s) {
                *ret = def;
                return true;
        }
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || v < min || v > max) {
                request_reply_error(q, 400, "bad_request", "%s must be an integer from %" PRId64 " to %" PRId64 ".",
                                    key, min, max);
                return false;
        }
        *ret = v;
        return true;
}

bool request_enum_arg(Request *q, const char *key, const char *const *values, size_t n, const char **ret) {
        const char *s = request_arg(q, key);
        char list[512] = "";
        size_t len = 0;

        *ret = s;
        for (size_t i = 0; s && i < n; i++)
                if (streq(s, values[i]))
                        return true;
        if (!s)
                return true;
        for (size_t i = 0; i < n && len < sizeof list; i++)
                len += (size_t) snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", values[i]);
        request_reply_error(q, 400, "bad_request", "%s must be one of %s.", key, list);
        return false;
}

const char *request_header(Request *q, const char *key) {
        return http_exchange_header(q->x, key);
}

json_object *request_json_body(Request *q) {
        json_object *o = NULL;
        size_t size;
        const char *body = http_exchange_body(q->x, &size);

        if (size == 0 || json_parse(body, size, &o) < 0 || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                request_reply_error(q, 400, "bad_request", "The body must be a JSON object.");
                return NULL;
        }
        return o;
}

void request_reply(Request *q, unsigned status, const char *content_type, const char *body) {
        Apid *a = q->apid;

        assert(!q->answered);
        q->answered = true;
        a->stats.requests++;
        a->stats.by_class[MIN(status / 100, 5u)]++;
        (void) http_reply(q->x, status, content_type, body, strlen(body));
}

void request_reply_json(Request *q, unsigned status, const char *json) {
        request_reply(q, status, "application/json", json);
}

void request_reply_object(Request *q, unsigned status, json_object *o) {
        request_reply_json(q, status, o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null");
        json_object_put(o);
}

void request_reply_error(Request *q, unsigned status, const char *code, const char *fmt, ...) {
        json_object *o = json_object_new_object();
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        json_object_object_add(o, "error", json_object_new_string(code));
        json_object_object_add(o, "message", json_object_new_string(message));
        request_reply_object(q, status, o);
}

void request_reply_db_down(Request *q) {
        request_reply_error(q, 503, "database_unavailable", "The database is unavailable; try again shortly.");
}

void request_reply_deployd_down(Request *q) {
        request_reply_error(q, 503, "deployd_unavailable", "The deploy worker is unavailable; try again shortly.");
}

void request_reply_pg_error(Request *q, const PGresult *res) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

        if (streq_ptr(state, "P0002"))
                return request_reply_error(q, 404, "not_found", "No such client.");
        if (streq_ptr(state, "23505"))
                return request_reply_error(q, 409, "bot_taken", "This bot already belongs to another client.");
        if (streq_ptr(state, "55000"))
                return request_reply_error(q, 409, "invalid_state", "%s", strempty(text));
        if (streq_ptr(state, "22023") || streq_ptr(state, "23514"))
                return request_reply_error(q, 422, "invalid_field", "%s", strempty(text));
        log_error("Database statement failed: %s", res ? PQresultErrorMessage(res) : "not connected");
        request_reply_db_down(q);
}

static void on_query_json(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;

        if (pg_result_to_errno(res) < 0)
                return request_reply_pg_error(q, res);
        if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
                return request_reply_error(q, 404, "not_found", "No such client.");
        request_reply_json(q, q->query_status, PQgetvalue(res, 0, 0));
}

int request_query_json(Request *q, unsigned status, const char *sql, int n, const char *const *params) {
        int r;

        q->query_status = status;
        r = pg_query(q->apid->daemon.pg, sql, n, params, on_query_json, q);
        if (r < 0)
                request_reply_db_down(q);
        return r;
}

void request_reply_bus_error(Request *q, const sd_bus_error *e) {
        if (sd_bus_error_has_name(e, DEPLOY_ERROR_INVALID))
                return request_reply_error(q, 422, "invalid_field", "%s", strempty(e->message));
        if (sd_bus_error_has_name(e, DEPLOY_ERROR_NO_SUCH_TASK))
                return request_reply_error(q, 404, "not_found", "%s", strempty(e->message));
        log_warning("org.tgfleet.Deploy1 failed: %s: %s", strempty(e->name), strempty(e->message));
        request_reply_deployd_down(q);
}

/* --- libmicrohttpd -------------------------------------------------------------------------------- */

static bool actor_valid(const char *s) {
        if (isempty(s) || strlen(s) > 100)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* Paths anyone may ask for; everything else needs the bearer token. */
static bool public_path(const char *path) {
        return streq(path, "/health") || streq(path, "/openapi.json") || streq(path, "/docs") || streq(path, "/docs/") ||
               (!startswith(path, "/api/") && !streq(path, "/metrics"));
}

static bool authorized(Request *q) {
        const char *h = request_header(q, MHD_HTTP_HEADER_AUTHORIZATION);
        const Secret *t = q->apid->api_token;

        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return false;
        h += 7;
        h += strspn(h, " ");
        return secret_equal(t->data, t->size, h, strlen(h));
}

bool request_on_head(HttpExchange *x, void *userdata) {
        Apid *a = userdata;
        const char *actor = http_exchange_header(x, "X-Tgfleet-Actor"), *length;
        Request *q = calloc(1, sizeof *q);

        if (!q) {
                static const char oom[] = "{\"error\":\"out_of_memory\",\"message\":\"Out of memory.\"}";
                (void) http_reply(x, 503, "application/json", oom, strlen(oom));
                return false;
        }
        *q = (Request) { .apid = a, .x = x, .method = http_exchange_method(x), .path = http_exchange_path(x) };
        snprintf(q->actor, sizeof q->actor, actor_valid(actor) ? "api:%s" : "api", strempty(actor));
        http_exchange_set_data(x, q);
        if (!public_path(q->path) && !authorized(q)) {
                a->stats.unauthorized++;
                request_reply_error(q, 401, "unauthorized", "A valid bearer token is required.");
                return false;
        }
        if (http_exchange_has_body(x) &&
            !http_content_type_is_json(http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_TYPE))) {
                request_reply_error(q, 415, "unsupported_media_type", "A request body must be application/json.");
                return false;
        }
        length = http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > REQUEST_BODY_MAX) {
                request_reply_error(q, 413, "too_large", "The body is larger than %u bytes.", REQUEST_BODY_MAX);
                return false;
        }
        return true;
}

void request_on_body(HttpExchange *x, void *userdata) {
        Request *q = http_exchange_get_data(x);

        if (http_exchange_too_large(x))
                return request_reply_error(q, 413, "too_large", "The body is larger than %u bytes.", REQUEST_BODY_MAX);
        route_request(q);
}

void request_on_done(HttpExchange *x, void *userdata) {
        Request *q = http_exchange_get_data(x);

        if (!q)
                return;
        if (q->free_handler_data)
                q->free_handler_data(q->handler_data);
        else
                free(q->handler_data);
        free(q);
}
