/* SPDX-License-Identifier: MIT */
#pragma once

/* One API request: its head, its body, and its answer. A handler answers at once or after
 * asynchronous steps (PostgreSQL, D-Bus, the Bot API); either way it ends with exactly one
 * request_reply*() call. Every answer is JSON, errors as {"error": "<stable code>", "message":
 * "…"}, except the few documents (/metrics, /docs) that say otherwise. */

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "apid.h"

#define REQUEST_BODY_MAX (64 * 1024)

typedef struct Request {
        Apid *apid;
        HttpExchange *x;
        const char *method;         /* the exchange's, valid for the request's life */
        const char *path;
        bool answered;
        unsigned query_status;      /* request_query_json(): the status of a found row */
        char actor[128];            /* for the audit log: "api", or "api:<X-Tgfleet-Actor>" */
        void *handler_data;         /* a handler's own state, freed by free_handler_data */
        void (*free_handler_data)(void *);
} Request;

/* The HTTP server's hooks (userdata: the Apid). On the head, before any body is read: a protected
 * path without the bearer token is answered 401, a body that is not application/json 415, one
 * announced larger than REQUEST_BODY_MAX 413. */
bool request_on_head(HttpExchange *x, void *userdata);
void request_on_body(HttpExchange *x, void *userdata);
void request_on_done(HttpExchange *x, void *userdata);

/* The value of query argument @key, or NULL. */
const char *request_arg(Request *q, const char *key);
/* Query argument @key as an integer in [@min, @max] (absent: @def) in *ret. Returns false after
 * answering 400 when it is something else. */
bool request_int_arg(Request *q, const char *key, int64_t min, int64_t max, int64_t def, int64_t *ret);
/* Query argument @key, when given, one of the @n @values, in *ret (NULL when absent). Returns
 * false after answering 400, which lists them, when it is something else. */
bool request_enum_arg(Request *q, const char *key, const char *const *values, size_t n, const char **ret);

/* The value of header @key, or NULL. */
const char *request_header(Request *q, const char *key);

/* Parses the body as a JSON object. Returns it (owned by the caller) or NULL after answering 400. */
json_object *request_json_body(Request *q);

/* Answers @status with @body (copied) of @content_type. */
void request_reply(Request *q, unsigned status, const char *content_type, const char *body);

/* Answers @status with the JSON text @json (copied). */
void request_reply_json(Request *q, unsigned status, const char *json);

/* Answers @status with @o (consumed). */
void request_reply_object(Request *q, unsigned status, json_object *o);

/* Answers an error: {"error": @code, "message": the formatted text}. */
void request_reply_error(Request *q, unsigned status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Answers 503 database_unavailable, or 503 deployd_unavailable. */
void request_reply_db_down(Request *q);
void request_reply_deployd_down(Request *q);

/* Answers the error a failed PostgreSQL statement deserves: 404 for P0002, 409 for a unique
 * violation or a state conflict (55000), 422 for 22023, 503 for anything else (logged). */
void request_reply_pg_error(Request *q, const PGresult *res);

/* Runs @sql and answers @status with the first column of its first row, a JSON text; no row
 * answers 404 not_found, a failure as request_reply_pg_error(). Returns 0, or a negative errno
 * after answering 503. */
int request_query_json(Request *q, unsigned status, const char *sql, int n, const char *const *params);

/* Answers the error a failed org.tgfleet.Deploy1 call deserves (503 unless invalid). */
void request_reply_bus_error(Request *q, const sd_bus_error *e);

/* Routes: the handlers, in routes.c, clients.c, orders.c, ops.c and docs.c. Each ends with one reply. */
void route_request(Request *q);
void clients_list(Request *q);
void orders_list(Request *q);
void orders_get(Request *q, const char *id);

/* payments.c: GET /api/payments (status, client_id, owner_id, limit, offset). */
void payments_list(Request *q);
void clients_get(Request *q, int64_t id);
void clients_create(Request *q);
void clients_extend(Request *q, int64_t id);
void clients_action(Request *q, int64_t id, const char *action);
void ops_queue(Request *q);
void ops_retry(Request *q, const char *task);
void ops_stats(Request *q);
void ops_health(Request *q);
void ops_metrics(Request *q);
void docs_openapi(Request *q);
void docs_page(Request *q);
