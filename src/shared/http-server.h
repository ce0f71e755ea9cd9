/* SPDX-License-Identifier: MIT */
#pragma once

/* libmicrohttpd driven by an sd-event loop: one MHD daemon per listening socket, each in
 * MHD_USE_EPOLL mode with its epoll fd watched by the loop and its timeout as a timer. Handlers
 * may suspend connections (MHD_suspend_connection) and resume them from any loop callback. */

#include <microhttpd.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct HttpServer HttpServer;

typedef struct HttpServerOptions {
        unsigned max_connections;
        unsigned max_connections_per_address;
        unsigned connection_timeout_sec;
        size_t connection_memory;
        const char *tls_cert_pem;  /* NULL for plain HTTP */
        const char *tls_key_pem;
        MHD_AccessHandlerCallback handler;
        MHD_RequestCompletedCallback completed;
        void *userdata;
} HttpServerOptions;

/* Creates a server with no sockets yet. The TLS strings in @opts must stay valid until the last
 * socket is added. Returns 0 or -ENOMEM. */
int http_server_new(sd_event *e, const HttpServerOptions *opts, HttpServer **ret);

/* Serves the listening socket @fd (ownership passes to the server, even on failure). Returns 0,
 * or -EIO when libmicrohttpd refuses it (bad TLS material, not a socket). */
int http_server_add_fd(HttpServer *s, int fd);

/* Resumes the suspended connection @c and makes sure the loop runs libmicrohttpd for it. Use
 * this instead of MHD_resume_connection(). */
void http_server_resume(HttpServer *s, struct MHD_Connection *c);

/* Number of sockets served. */
size_t http_server_n_fds(const HttpServer *s);

/* Stops accepting, closes the sockets and frees. Accepts NULL; returns NULL. Resume any
 * suspended connection first: libmicrohttpd cannot stop with suspended connections. */
HttpServer *http_server_free(HttpServer *s);

/* Parses "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" and returns a listening TCP socket (SO_REUSEADDR,
 * non-blocking, close-on-exec) in *ret. Returns 0, -EINVAL for a bad address, other -errno. */
int http_listen(const char *address, int *ret);

/* Serves the sockets passed by the service manager, or, when there are none, listens on each of
 * the @n_listen addresses of @listen ("ADDR:PORT"). @socket_unit names the .socket unit in the
 * error when there is nothing to serve. Returns 0 or a negative errno (logged). */
int http_server_open_sockets(HttpServer *s, char *const *listen, size_t n_listen, const char *socket_unit);

/* Queues @body (copied) with @status and @content_type on @c. Returns MHD_YES/MHD_NO as the
 * access handler must. The one place every tgfleet reply goes through. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
                           const char *body, size_t len);
