/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy-bus.h"
#include "json-util.h"
#include "log.h"
#include "request.h"

const char *request_arg(Request *q, const char *key) {
        return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *request_header(Request *q, const char *key) {
        return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, key);
}

json_object *request_json_body(Request *q) {
        json_object *o = NULL;

        if (q->size == 0 || json_parse(q->body, q->size, &o) < 0 || !json_object_is_type(o, json_type_object)) {
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
        q->status = status;
        q->content_type = content_type;
        q->answer = strdup(body);
        a->stats.requests++;
        a->stats.by_class[MIN(status / 100, 5u)]++;
        if (q->suspended) {
                q->suspended = false;
                http_server_resume(a->http, q->conn);
        }
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
        r = pg_query(q->apid->pg, sql, n, params, on_query_json, q);
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

static enum MHD_Result on_head(Apid *a, struct MHD_Connection *c, const char *url, const char *method,
                               void **con_cls) {
        const char *actor = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tgfleet-Actor");
        Request *q = calloc(1, sizeof *q);

        if (!q)
                return MHD_NO;
        *q = (Request) { .apid = a, .conn = c, .method = method };
        snprintf(q->path, sizeof q->path, "%s", url);
        snprintf(q->actor, sizeof q->actor, actor_valid(actor) ? "api:%s" : "api", strempty(actor));
        *con_cls = q;
        return MHD_YES;
}

static int body_append(Request *q, const char *data, size_t n) {
        char *b;

        if (q->size + n > REQUEST_BODY_MAX) {
                q->overflow = true;
                return 0;
        }
        b = realloc(q->body, q->size + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + q->size, data, n);
        q->body = b;
        q->size += n;
        q->body[q->size] = 0;
        return 0;
}

static enum MHD_Result queue_answer(Request *q) {
        enum MHD_Result ret;
        struct MHD_Response *resp;

        if (!q->answer)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(q->answer), q->answer, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, q->content_type);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (q->status == 401)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        ret = MHD_queue_response(q->conn, q->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

enum MHD_Result request_on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        Request *q = *con_cls;

        if (!q)
                return on_head(cls, c, url, method, con_cls);
        if (*upload_data_size > 0) {
                /* Past the limit the rest is read and dropped; 413 follows at the end. */
                if (!q->overflow && body_append(q, upload_data, *upload_data_size) < 0)
                        return MHD_NO;
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (q->answered)
                return queue_answer(q);
        if (q->suspended)
                return MHD_YES;
        if (q->overflow)
                request_reply_error(q, 413, "too_large", "The body is larger than %u bytes.", REQUEST_BODY_MAX);
        else
                route_request(q);
        if (q->answered)
                return queue_answer(q);
        /* Waiting for the database, the bus or Telegram. */
        q->suspended = true;
        MHD_suspend_connection(c);
        return MHD_YES;
}

void request_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        Request *q = *con_cls;

        if (!q)
                return;
        free(q->body);
        free(q->answer);
        if (q->free_handler_data)
                q->free_handler_data(q->handler_data);
        else
                free(q->handler_data);
        free(q);
        *con_cls = NULL;
}
