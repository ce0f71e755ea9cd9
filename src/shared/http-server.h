/* SPDX-License-Identifier: MIT */
#pragma once

/* libmicrohttpd driven by an sd-event loop, and the life of one request on it. One MHD daemon per
 * listening socket, each in MHD_USE_EPOLL mode with its epoll fd watched by the loop and its timeout
 * as a timer; strict HTTP/1.1 parsing.
 *
 * A request (an HttpExchange) goes: head → body → answer → done.
 *   - on_head() sees the method, path and headers before any byte of the body is read, and either
 *     answers at once (refusals: 401, 404, 405, 413 by Content-Length, 415, …) or lets the body
 *     come.
 *   - The body is read into one buffer of at most max_body bytes; past that the rest is dropped
 *     and http_exchange_too_large() tells on_body() so. The whole body must arrive within
 *     body_timeout_usec of the head (libmicrohttpd's own timeout is only an idle one), else the
 *     connection is closed.
 *   - on_body() answers at once or later, from any loop callback: until then the connection is
 *     suspended.
 *   - on_done() runs once the answer went (or the client left): the place to free what the
 *     exchange's handler attached. The body is wiped then: it may have held a secret.
 * Every answer goes through http_reply() or http_reply_response(). A server freed while answers
 * are still awaited answers them 503 first. */

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct HttpServer HttpServer;
typedef struct HttpExchange HttpExchange;

typedef struct HttpServerOptions {
        unsigned max_connections;
        unsigned max_connections_per_address;
        unsigned connection_timeout_sec;
        size_t connection_memory;
        size_t max_body;                /* bytes kept of a body; default 64 KiB */
        uint64_t body_timeout_usec;     /* the whole body within this of the head; 0: connection timeout */
        const char *tls_cert_pem;       /* NULL for plain HTTP */
        const char *tls_key_pem;
        const char *const *headers;     /* NULL, or "Name", "value", …, NULL: on every answer */
        const char *www_authenticate;   /* NULL, or the challenge every 401 carries */
        /* Returns true to read the body; false when it answered. */
        bool (*on_head)(HttpExchange *x, void *userdata);
        /* The body is in: answer now or later. */
        void (*on_body)(HttpExchange *x, void *userdata);
        /* NULL, or: the exchange is over; free what was attached to it. */
        void (*on_done)(HttpExchange *x, void *userdata);
        void *userdata;
} HttpServerOptions;

/* Creates a server with no sockets yet. The strings in @opts must stay valid while it runs.
 * Returns 0 or -ENOMEM. */
int http_server_new(sd_event *e, const HttpServerOptions *opts, HttpServer **ret);

/* Serves the listening socket @fd (ownership passes to the server, even on failure). Returns 0,
 * or -EIO when libmicrohttpd refuses it (bad TLS material). */
int http_server_add_fd(HttpServer *s, int fd);

/* Changes max_body and body_timeout_usec (a reload) for the requests that come next. */
void http_server_set_body_limits(HttpServer *s, size_t max_body, uint64_t body_timeout_usec);

/* Number of sockets served. */
size_t http_server_n_fds(const HttpServer *s);

typedef void (*HttpDrainedFn)(void *userdata);

/* Stops taking connections and calls @done (from the loop) once every request under way is
 * answered and every connection accepted has sent its first one, or after @timeout_usec: a stop
 * that answers what it accepted. A connection kept alive between requests is not waited for (it
 * is closed with the server, as nginx does). The listening sockets are given up; a
 * socket-activated service's stay with the service manager, so what arrives meanwhile waits in
 * their backlog for the next start. Returns 0, -EALREADY when draining already, or -errno. */
int http_server_drain(HttpServer *s, uint64_t timeout_usec, HttpDrainedFn done, void *userdata);

/* Answers 503 to every exchange still waiting for its answer, stops accepting, closes the sockets
 * and frees. Accepts NULL; returns NULL. */
HttpServer *http_server_free(HttpServer *s);

/* Parses "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" and returns a listening TCP socket (SO_REUSEADDR,
 * non-blocking, close-on-exec) in *ret. Returns 0, -EINVAL for a bad address, other -errno. */
int http_listen(const char *address, int *ret);

/* How many listening sockets @s serves. */
unsigned http_server_n_sockets(const HttpServer *s);


/* The exchange's parts: libmicrohttpd's connection; method and path (decoded; valid for the
 * exchange's life); a header or query argument, or NULL; whether the request announced a body
 * (Content-Length > 0 or chunked); the body read, NUL-terminated ("" when none) and its size;
 * whether it was larger than max_body. */
struct MHD_Connection *http_exchange_connection(HttpExchange *x);
const char *http_exchange_method(const HttpExchange *x);
const char *http_exchange_path(const HttpExchange *x);
const char *http_exchange_header(HttpExchange *x, const char *name);
const char *http_exchange_arg(HttpExchange *x, const char *name);
bool http_exchange_has_body(HttpExchange *x);
const char *http_exchange_body(const HttpExchange *x, size_t *ret_size);
bool http_exchange_too_large(const HttpExchange *x);

/* The handler's own state for this exchange (NULL until set). */
void http_exchange_set_data(HttpExchange *x, void *data);
void *http_exchange_get_data(const HttpExchange *x);

/* Answers @status with @body (@len bytes, copied) of @content_type (may be NULL). Once per
 * exchange; a later call is ignored. From on_head(), on_body() or later. Returns 0 or -ENOMEM (the
 * connection is then closed). */
int http_reply(HttpExchange *x, unsigned status, const char *content_type, const char *body, size_t len);

/* Answers @status with @response, e.g. one built once for every answer: it stays the caller's and
 * must outlive the server. */
int http_reply_response(HttpExchange *x, unsigned status, struct MHD_Response *response);

/* Whether @content_type is JSON: "application/json", with parameters or not, in any case. */
bool http_content_type_is_json(const char *content_type);
