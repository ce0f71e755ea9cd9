/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json-util.h"
#include "log.h"
#include "sandbox.h"

#define BODY_MAX (4 * 1024 * 1024)

/* A request's form fields, when its body is a form. */
typedef struct Pending {
        json_object *form;                     /* from the post processor */
        struct MHD_PostProcessor *pp;
        bool bad;                              /* a form part it could not read */
} Pending;

ApiReply api_reply(unsigned status, json_object *json) {
        return (ApiReply) { status, json };
}

ApiReply api_error(unsigned status, const char *message) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(message));
        return api_reply(status, o);
}

void sandbox_base_url(const ApiRequest *req, char *buf, size_t size) {
        const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
        snprintf(buf, size, "http://%s", host ? host : "127.0.0.1");
}

void sandbox_record_call(Sandbox *sb, const char *api, const char *what) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "api", json_object_new_string(api));
        json_object_object_add(c, "call", json_object_new_string(what));
        json_object_array_add(sb->calls, c);
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        (void) kind;
        if (!key)
                return MHD_YES;   /* as for a form part, never used as a name */
        json_object_object_add(cls, key, json_object_new_string(strempty(value)));
        return MHD_YES;
}

static enum MHD_Result on_form(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *content_type, const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size) {
        Pending *p = cls;
        json_object *old;
        (void) kind, (void) transfer_encoding;

        /* libmicrohttpd passes no name for a part whose header it could not read ("form-data;name=x"
         * without the space, or none at all): the request is malformed. */
        if (!key) {
                p->bad = true;
                return MHD_NO;
        }
        /* A file is kept as what Telegram learns of it: its name, type, size, and whether it is
         * an image (by its first bytes). */
        if (filename) {
                json_object *f;
                int64_t size_before = 0;
                if (off > 0 && json_object_object_get_ex(p->form, key, &f) && json_object_is_type(f, json_type_object)) {
                        json_object *content;
                        (void) json_get_int64(f, "file_size", &size_before);
                        json_object_object_add(f, "file_size", json_object_new_int64(size_before + (int64_t) size));
                        if (json_object_object_get_ex(f, "content", &content)) {
                                char *joined = NULL;
                                if (size_before + (int64_t) size > 65536 ||
                                    asprintf(&joined, "%s%.*s", json_object_get_string(content), (int) size, data) < 0)
                                        json_object_object_del(f, "content");
                                else
                                        json_object_object_add(f, "content", json_object_new_string(joined));
                                free(joined);
                        }
                        return MHD_YES;
                }
                static const struct { const char *magic; size_t len; } images[] = {
                        { "\xff\xd8\xff", 3 }, { "\x89PNG\r\n\x1a\n", 8 }, { "GIF8", 4 }, { "RIFF", 4 },
                };
                bool image = false;
                for (size_t i = 0; i < ELEMENTSOF(images); i++)
                        image = image || (size >= images[i].len && memcmp(data, images[i].magic, images[i].len) == 0);
                f = json_object_new_object();
                /* A webhook's certificate is what Telegram keeps and trusts: its text too. */
                if (streq(key, "certificate") && size <= 65536)
                        json_object_object_add(f, "content", json_object_new_string_len(data, (int) size));
                json_object_object_add(f, "file_name", json_object_new_string(filename));
                json_object_object_add(f, "mime_type", json_object_new_string(content_type ?: "application/octet-stream"));
                json_object_object_add(f, "file_size", json_object_new_int64((int64_t) size));
                json_object_object_add(f, "is_image", json_object_new_boolean(image));
                json_object_object_add(p->form, key, f);
                return MHD_YES;
        }
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

/* libmicrohttpd (0.9.75) reads a part's headers only when written "Content-Disposition: form-data;
 * name=\"…\"", with the spaces and the quotes; clients also write
 * "content-disposition:form-data;name=\"…\";filename=x.txt" (grammY does), which Telegram takes. Returns a copy of the multipart @body (@size) whose part headers
 * are written the first way, or NULL when it is not multipart or on -ENOMEM (the body is then
 * given as it is). */
static char *multipart_normalized(const char *content_type, const char *body, size_t size, size_t *ret_size) {
        const char *b = content_type ? strcasestr(content_type, "boundary=") : NULL, *end = body + size;
        char delimiter[128];
        struct printbuf *out;
        size_t blen;

        if (!b || strncasecmp(content_type, "multipart/form-data", 19) != 0)
                return NULL;
        b += 9;
        blen = b[0] == '"' ? strcspn(++b, "\"") : strcspn(b, "; \t");
        if (blen == 0 || blen > 70)
                return NULL;
        snprintf(delimiter, sizeof delimiter, "--%.*s\r\n", (int) blen, b);
        out = printbuf_new();
        if (!out)
                return NULL;
        for (const char *at = body; at < end;) {
                const char *d = memmem(at, (size_t) (end - at), delimiter, strlen(delimiter));
                const char *headers_end;
                if (!d) {
                        printbuf_memappend(out, at, (int) (end - at));
                        break;
                }
                d += strlen(delimiter);
                printbuf_memappend(out, at, (int) (d - at));
                headers_end = memmem(d, (size_t) (end - d), "\r\n\r\n", 4);
                if (!headers_end) {
                        printbuf_memappend(out, d, (int) (end - d));
                        break;
                }
                /* Each header line: its name as libmicrohttpd expects it, ": ", and "; " between
                 * the value's parameters. */
                for (const char *line = d; line < headers_end + 2;) {
                        const char *eol = memmem(line, (size_t) (headers_end + 2 - line), "\r\n", 2);
                        const char *colon = memchr(line, ':', (size_t) (eol - line));
                        if (!colon) {
                                printbuf_memappend(out, line, (int) (eol + 2 - line));
                                line = eol + 2;
                                continue;
                        }
                        size_t nlen = (size_t) (colon - line);
                        const char *name = nlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0 ? "Content-Disposition" :
                                           nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0 ? "Content-Type" : NULL;
                        if (name)
                                printbuf_memappend(out, name, (int) strlen(name));
                        else
                                printbuf_memappend(out, line, (int) nlen);
                        printbuf_strappend(out, ": ");
                        /* The value's parts, "; " between them, parameter values quoted. */
                        const char *v = colon + 1;
                        for (bool first = true; v < eol; first = false) {
                                while (v < eol && (*v == ' ' || *v == '\t'))
                                        v++;
                                const char *part = v, *eq = NULL;
                                bool quoted = false;
                                for (; v < eol && (quoted || *v != ';'); v++) {
                                        if (*v == '"')
                                                quoted = !quoted;
                                        else if (*v == '=' && !eq && !quoted)
                                                eq = v;
                                }
                                if (!first)
                                        printbuf_strappend(out, "; ");
                                if (eq && eq + 1 < v && eq[1] != '"') {
                                        printbuf_memappend(out, part, (int) (eq + 1 - part));
                                        printbuf_strappend(out, "\"");
                                        printbuf_memappend(out, eq + 1, (int) (v - eq - 1));
                                        printbuf_strappend(out, "\"");
                                } else
                                        printbuf_memappend(out, part, (int) (v - part));
                                if (v < eol)
                                        v++;   /* the ';' */
                        }
                        printbuf_strappend(out, "\r\n");
                        line = eol + 2;
                }
                printbuf_strappend(out, "\r\n");
                at = headers_end + 4;
        }
        char *copy = malloc((size_t) out->bpos + 1);
        if (copy) {
                memcpy(copy, out->buf, (size_t) out->bpos);
                copy[out->bpos] = 0;
                *ret_size = (size_t) out->bpos;
        }
        printbuf_free(out);
        return copy;
}

static json_object *collect_params(HttpExchange *x, Pending *p, bool *bad) {
        struct MHD_Connection *c = http_exchange_connection(x);
        const char *ct = http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_TYPE);
        json_object *params = json_object_new_object();
        size_t size;
        const char *text = http_exchange_body(x, &size);

        (void) MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, params);
        if (p->pp) {
                size_t n = size;
                char *normalized = multipart_normalized(ct, text, size, &n);
                enum MHD_Result r = MHD_post_process(p->pp, normalized ?: text, normalized ? n : size);
                free(normalized);
                if (r != MHD_YES || p->bad) {
                        *bad = true;
                        return params;
                }
        }
        if (p->form) {
                json_object_object_foreach(p->form, fk, fv)
                        json_object_object_add(params, fk, json_object_get(fv));
        }
        if (size > 0 && http_content_type_is_json(ct)) {
                json_object *body = NULL;
                if (json_parse(text, size, &body) < 0 || !json_object_is_type(body, json_type_object)) {
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

typedef enum ApiFamily { API_TELEGRAM, API_HELEKET, API_YOOKASSA, API_CONTROL } ApiFamily;

static ApiFamily api_family(const char *path) {
        if (startswith(path, "/bot"))
                return API_TELEGRAM;
        if (startswith(path, "/v1/"))
                return API_HELEKET;
        if (startswith(path, "/v3/"))
                return API_YOOKASSA;
        return API_CONTROL;
}

/* An error the server gives before a route does, in the shape of the API that was called. */
static ApiReply family_error(const char *path, unsigned status, const char *text) {
        switch (api_family(path)) {
        case API_TELEGRAM:
                return telegram_error(status, text);
        case API_HELEKET:
                return heleket_error(status, text);
        case API_YOOKASSA:
                return yookassa_error(status, status == 404 ? "not_found" : "invalid_request", text);
        default:
                return api_error(status, text);
        }
}

static ApiReply route(Sandbox *sb, const ApiRequest *req) {
        const char *rest;

        if ((rest = startswith(req->path, "/bot"))) {
                const char *slash = strchr(rest, '/');
                char token[256];
                if (!slash || (size_t) (slash - rest) >= sizeof token)
                        return telegram_error(404, "Not Found");
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
        return api_error(404, "Not Found");   /* no API lives there */
}

static bool on_head(HttpExchange *x, void *userdata) {
        Pending *p = calloc(1, sizeof *p);

        if (!p) {
                (void) http_reply(x, 500, "application/json", "{}", 2);
                return false;
        }
        p->form = json_object_new_object();
        p->pp = MHD_create_post_processor(http_exchange_connection(x), 16 * 1024, on_form, p);  /* NULL unless a form */
        http_exchange_set_data(x, p);
        return true;
}

static void on_body(HttpExchange *x, void *userdata) {
        Sandbox *sb = userdata;
        Pending *p = http_exchange_get_data(x);
        ApiReply r;
        bool bad = false;

        if (http_exchange_too_large(x))
                r = family_error(http_exchange_path(x), 413, "Request Entity Too Large");
        else {
                json_object *params = collect_params(x, p, &bad);
                size_t size;
                const char *body = http_exchange_body(x, &size);
                ApiRequest req = { x, http_exchange_connection(x), http_exchange_method(x), http_exchange_path(x), body,
                                   size, params };
                unsigned status;
                char *html = NULL;
                if (!bad && sandbox_page(sb, &req, &status, &html)) {
                        (void) http_reply(x, status, "text/html; charset=utf-8", html ?: "", html ? strlen(html) : 0);
                        free(html);
                        json_object_put(params);
                        return;
                }
                r = bad ? family_error(req.path, 400,
                                       api_family(req.path) == API_TELEGRAM ? "Bad Request: can't parse JSON object"
                                                                            : "The request body cannot be parsed")
                        : route(sb, &req);
                json_object_put(params);
        }
        if (r.status != 0)
                sandbox_answer(x, r);
}

void sandbox_answer(HttpExchange *x, ApiReply r) {
        const char *text = json_object_to_json_string_ext(r.json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        (void) http_reply(x, r.status, "application/json", text, strlen(text));
        json_object_put(r.json);
}

static void on_done(HttpExchange *x, void *userdata) {
        Pending *p = http_exchange_get_data(x);

        telegram_exchange_gone(userdata, x);
        if (!p)
                return;
        if (p->pp)
                MHD_destroy_post_processor(p->pp);
        json_object_put(p->form);
        free(p);
}

int sandbox_serve(Sandbox *sb, int fd) {
        HttpServerOptions o = {
                .max_connections = 1024,
                .max_connections_per_address = 1024,
                .connection_timeout_sec = 60,
                .connection_memory = 64 * 1024,
                .max_body = BODY_MAX,
                .on_head = on_head,
                .on_body = on_body,
                .on_done = on_done,
                .userdata = sb,
        };
        int r;

        if (!sb->http && (r = http_server_new(sb->event, &o, &sb->http)) < 0)
                return r;
        return http_server_add_fd(sb->http, fd);
}
