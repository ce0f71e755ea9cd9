/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <strings.h>

#include "json-util.h"
#include "log.h"
#include "sandbox.h"

#define BODY_MAX (4 * 1024 * 1024)

typedef struct Pending {
        char *body;
        size_t size;
        bool too_large;
        json_object *form;                     /* from the post processor */
        struct MHD_PostProcessor *pp;
} Pending;

ApiReply api_reply(unsigned status, json_object *json) {
        return (ApiReply) { status, json };
}

ApiReply api_error(unsigned status, const char *message) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(message));
        return api_reply(status, o);
}

void sandbox_record_call(Sandbox *sb, const char *api, const char *what) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "api", json_object_new_string(api));
        json_object_object_add(c, "call", json_object_new_string(what));
        json_object_array_add(sb->calls, c);
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        (void) kind;
        json_object_object_add(cls, key, json_object_new_string(strempty(value)));
        return MHD_YES;
}

static enum MHD_Result on_form(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *content_type, const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size) {
        Pending *p = cls;
        json_object *old;
        (void) kind, (void) filename, (void) content_type, (void) transfer_encoding;

        /* Values may arrive in pieces: append to what came before. */
        if (off > 0 && json_object_object_get_ex(p->form, key, &old)) {
                char *joined = NULL;
                if (asprintf(&joined, "%s%.*s", json_object_get_string(old), (int) size, data) < 0)
                        return MHD_NO;
                json_object_object_add(p->form, key, json_object_new_string(joined));
                free(joined);
        } else
                json_object_object_add(p->form, key, json_object_new_string_len(data, (int) size));
        return MHD_YES;
}

static json_object *collect_params(struct MHD_Connection *c, Pending *p, bool *bad) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        json_object *params = json_object_new_object();

        (void) MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, params);
        if (p->form) {
                json_object_object_foreach(p->form, fk, fv)
                        json_object_object_add(params, fk, json_object_get(fv));
        }
        if (p->size > 0 && ct && strncasecmp(ct, "application/json", 16) == 0) {
                json_object *body;
                if (json_parse(p->body, p->size, &body) < 0 || !json_object_is_type(body, json_type_object)) {
                        json_object_put(body);
                        *bad = true;
                        return params;
                }
                json_object_object_foreach(body, bk, bv)
                        json_object_object_add(params, bk, json_object_get(bv));
                json_object_put(body);
        }
        return params;
}

static ApiReply route(Sandbox *sb, const ApiRequest *req) {
        const char *rest;

        if ((rest = startswith(req->path, "/bot"))) {
                const char *slash = strchr(rest, '/');
                char token[256];
                if (!slash || (size_t) (slash - rest) >= sizeof token)
                        return api_error(404, "Not Found");
                memcpy(token, rest, (size_t) (slash - rest));
                token[slash - rest] = 0;
                return telegram_handle(sb, req, token, slash + 1);
        }
        if (startswith(req->path, "/v1/"))
                return heleket_handle(sb, req);
        if (startswith(req->path, "/v3/"))
                return yookassa_handle(sb, req);
        if (startswith(req->path, "/sandbox/"))
                return control_handle(sb, req);
        return api_error(404, "Not Found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
        Sandbox *sb = cls;
        Pending *p = *con_cls;
        (void) version;

        if (!p) {
                p = calloc(1, sizeof *p);
                if (!p)
                        return MHD_NO;
                p->form = json_object_new_object();
                p->pp = MHD_create_post_processor(c, 16 * 1024, on_form, p);  /* NULL unless a form */
                *con_cls = p;
                return MHD_YES;
        }
        if (*upload_size > 0) {
                if (p->size + *upload_size > BODY_MAX)
                        p->too_large = true;
                if (!p->too_large) {
                        char *b = realloc(p->body, p->size + *upload_size + 1);
                        if (!b)
                                return MHD_NO;
                        p->body = b;
                        memcpy(p->body + p->size, upload, *upload_size);
                        p->size += *upload_size;
                        p->body[p->size] = 0;
                        if (p->pp)
                                (void) MHD_post_process(p->pp, upload, *upload_size);
                }
                *upload_size = 0;
                return MHD_YES;
        }

        ApiReply r;
        bool bad = false;
        if (p->too_large)
                r = api_error(413, "Request Entity Too Large");
        else {
                json_object *params = collect_params(c, p, &bad);
                ApiRequest req = { c, method, url, p->body ? p->body : "", p->size, params };
                r = bad ? api_error(400, "Bad Request: can't parse JSON object") : route(sb, &req);
                json_object_put(params);
        }
        const char *text = json_object_to_json_string_ext(r.json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        enum MHD_Result ret = http_reply(c, r.status, "application/json", text, strlen(text));
        json_object_put(r.json);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        Pending *p = *con_cls;
        (void) cls, (void) c, (void) toe;

        if (!p)
                return;
        if (p->pp)
                MHD_destroy_post_processor(p->pp);
        json_object_put(p->form);
        free(p->body);
        free(p);
        *con_cls = NULL;
}

/* Creates the HTTP side of the sandbox on @fd. */
int sandbox_serve(Sandbox *sb, int fd);
int sandbox_serve(Sandbox *sb, int fd) {
        HttpServerOptions o = {
                .max_connections = 1024,
                .max_connections_per_address = 1024,
                .connection_timeout_sec = 60,
                .connection_memory = 64 * 1024,
                .handler = on_request,
                .completed = on_completed,
                .userdata = sb,
        };
        int r;

        if (!sb->http && (r = http_server_new(sb->event, &o, &sb->http)) < 0)
                return r;
        return http_server_add_fd(sb->http, fd);
}
