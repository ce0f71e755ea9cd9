/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "http-server.h"
#include "log.h"
#include "macro.h"

#define MAX_BODY_DEFAULT (64 * 1024)

typedef struct HttpDaemon {
        HttpServer *server;
        struct MHD_Daemon *mhd;
        sd_event_source *io;
        sd_event_source *timer;
} HttpDaemon;

struct HttpServer {
        sd_event *event;
        sd_event_source *wake;   /* runs every daemon once, after a resume */
        HttpServerOptions opts;
        HttpDaemon *daemons;
        size_t n_daemons;
        HttpExchange *suspended; /* waiting for their answer */
        unsigned exchanges;           /* requests begun and not completed */
        unsigned fresh;               /* connections that have not begun a request yet */
        /* http_server_drain(): until the requests are over, or the deadline */
        sd_event_source *drain_timer;
        uint64_t drain_deadline;
        HttpDrainedFn drained;
        void *drained_userdata;
};

struct HttpExchange {
        HttpServer *server;
        struct MHD_Connection *conn;
        const char *method, *path;     /* libmicrohttpd's */
        char *body;
        size_t size, alloc;
        bool overflow;
        bool suspended;
        unsigned status;               /* the answer, once known */
        struct MHD_Response *response;
        bool owns_response;
        uint64_t deadline;             /* CLOCK_MONOTONIC µs by which the body must be in */
        void *data;
        HttpExchange *prev, *next;     /* in the server's suspended list */
};

static void daemon_arm_timer(HttpDaemon *d) {
        MHD_UNSIGNED_LONG_LONG ms;
        uint64_t now;

        if (MHD_get_timeout(d->mhd, &ms) != MHD_YES) {
                (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
                return;
        }
        if (ms == 0) {
                /* Work is pending that no fd will signal again (libmicrohttpd's epoll is
                 * edge-triggered): run again in the next loop iteration. */
                (void) sd_event_source_set_enabled(d->server->wake, SD_EVENT_ONESHOT);
                return;
        }
        (void) sd_event_now(d->server->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(d->timer, now + (uint64_t) ms * USEC_PER_MSEC);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HttpDaemon *d = userdata;
        (void) s, (void) fd, (void) revents;

        (void) MHD_run(d->mhd);
        daemon_arm_timer(d);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpDaemon *d = userdata;
        (void) s, (void) usec;

        (void) MHD_run(d->mhd);
        daemon_arm_timer(d);
        return 0;
}

static int on_wake(sd_event_source *src, void *userdata) {
        HttpServer *s = userdata;

        (void) sd_event_source_set_enabled(src, SD_EVENT_OFF);
        for (size_t i = 0; i < s->n_daemons; i++) {
                (void) MHD_run(s->daemons[i].mhd);
                daemon_arm_timer(&s->daemons[i]);
        }
        return 0;
}

int http_server_new(sd_event *e, const HttpServerOptions *opts, HttpServer **ret) {
        HttpServer *s = calloc(1, sizeof *s);
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->opts = *opts;
        if (s->opts.max_body == 0)
                s->opts.max_body = MAX_BODY_DEFAULT;
        r = sd_event_add_defer(e, &s->wake, on_wake, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->wake, SD_EVENT_OFF);
        if (r < 0) {
                http_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* --- one exchange ---------------------------------------------------------------------------------- */

struct MHD_Connection *http_exchange_connection(HttpExchange *x) {
        return x->conn;
}

const char *http_exchange_method(const HttpExchange *x) {
        return x->method;
}

const char *http_exchange_path(const HttpExchange *x) {
        return x->path;
}

const char *http_exchange_header(HttpExchange *x, const char *name) {
        return MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, name);
}

const char *http_exchange_arg(HttpExchange *x, const char *name) {
        return MHD_lookup_connection_value(x->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_exchange_has_body(HttpExchange *x) {
        const char *length = http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_LENGTH);

        return (length && strspn(length, "0") != strlen(length)) ||
               http_exchange_header(x, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

const char *http_exchange_body(const HttpExchange *x, size_t *ret_size) {
        if (ret_size)
                *ret_size = x->size;
        return x->body ?: "";
}

bool http_exchange_too_large(const HttpExchange *x) {
        return x->overflow;
}

void http_exchange_set_data(HttpExchange *x, void *data) {
        x->data = data;
}

void *http_exchange_get_data(const HttpExchange *x) {
        return x->data;
}

bool http_content_type_is_json(const char *ct) {
        size_t l;

        if (!ct)
                return false;
        ct += strspn(ct, " \t");
        l = strcspn(ct, "; \t");
        return l == strlen("application/json") && strncasecmp(ct, "application/json", l) == 0;
}

static void suspended_remove(HttpExchange *x) {
        HttpServer *s = x->server;

        if (!x->suspended)
                return;
        x->suspended = false;
        if (x->prev)
                x->prev->next = x->next;
        else
                s->suspended = x->next;
        if (x->next)
                x->next->prev = x->prev;
        x->prev = x->next = NULL;
        MHD_resume_connection(x->conn);
        /* In external-epoll mode libmicrohttpd only notices a resume on its next MHD_run. */
        (void) sd_event_source_set_enabled(s->wake, SD_EVENT_ONESHOT);
}

static void suspend(HttpExchange *x) {
        HttpServer *s = x->server;

        x->suspended = true;
        x->prev = NULL;
        x->next = s->suspended;
        if (s->suspended)
                s->suspended->prev = x;
        s->suspended = x;
        MHD_suspend_connection(x->conn);
}

int http_reply_response(HttpExchange *x, unsigned status, struct MHD_Response *response) {
        if (x->status != 0)
                return 0;
        x->status = status;
        x->response = response;
        suspended_remove(x);
        return 0;
}

int http_reply(HttpExchange *x, unsigned status, const char *content_type, const char *body, size_t len) {
        const HttpServerOptions *o = &x->server->opts;
        struct MHD_Response *r;

        if (x->status != 0)
                return 0;
        r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
        if (!r) {
                /* Nothing to answer with: the connection is closed instead. */
                x->status = 500;
                suspended_remove(x);
                return -ENOMEM;
        }
        if (content_type)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        for (const char *const *h = o->headers; h && h[0] && h[1]; h += 2)
                (void) MHD_add_response_header(r, h[0], h[1]);
        if (status == 401 && o->www_authenticate)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, o->www_authenticate);
        (void) http_reply_response(x, status, r);
        x->owns_response = true;
        return 0;
}

/* Hands libmicrohttpd the answer, once known. */
static enum MHD_Result queue(HttpExchange *x) {
        return x->response ? MHD_queue_response(x->conn, x->status, x->response) : MHD_NO;
}

/* A connection is fresh from its acceptance to its first request: a drain waits for it (its
 * request may be on its way), not for one kept alive between requests. Its socket context is a
 * bool, true while fresh (NULL when out of memory: then it is not counted). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        HttpServer *s = cls;
        bool *fresh = *socket_context;
        (void) c;

        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                fresh = malloc(sizeof *fresh);
                if (fresh) {
                        *fresh = true;
                        s->fresh++;
                }
                *socket_context = fresh;
                return;
        }
        if (fresh && *fresh)
                s->fresh--;
        free(fresh);
        *socket_context = NULL;
}

static void mark_used(HttpServer *s, struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        bool *fresh = info ? info->socket_context : NULL;

        if (fresh && *fresh) {
                *fresh = false;
                s->fresh--;
        }
}

static enum MHD_Result on_first(HttpServer *s, struct MHD_Connection *c, const char *url, const char *method,
                                void **con_cls) {
        const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        HttpExchange *x = calloc(1, sizeof *x);
        uint64_t now;

        if (!x)
                return MHD_NO;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        *x = (HttpExchange) {
                .server = s, .conn = c, .method = method, .path = url,
                .deadline = now + (s->opts.body_timeout_usec ?: s->opts.connection_timeout_sec * USEC_PER_SEC),
        };
        *con_cls = x;
        s->exchanges++;
        mark_used(s, c);
        if (!s->opts.on_head(x, s->opts.userdata))
                return queue(x);
        if (length) {
                /* A body announced within the limit is allocated once. */
                unsigned long long n = strtoull(length, NULL, 10);
                if (n > 0 && n <= s->opts.max_body) {
                        x->body = malloc(n + 1);
                        if (!x->body)
                                return MHD_NO;
                        x->alloc = n;
                }
        }
        return MHD_YES;
}

static int body_append(HttpExchange *x, const char *data, size_t n, size_t max) {
        if (x->size + n > max) {
                x->overflow = true;
                return 0;
        }
        if (x->size + n > x->alloc) {
                size_t want = MIN(MAX(x->alloc * 2, x->size + n), max);
                char *b = realloc(x->body, want + 1);
                if (!b)
                        return -ENOMEM;
                x->body = b;
                x->alloc = want;
        }
        memcpy(x->body + x->size, data, n);
        x->size += n;
        x->body[x->size] = 0;
        return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls) {
        HttpServer *s = cls;
        HttpExchange *x = *con_cls;
        (void) version;

        if (!x)
                return on_first(s, c, url, method, con_cls);
        if (x->status != 0)
                return queue(x);
        if (*upload_size > 0) {
                uint64_t now;
                (void) sd_event_now(s->event, CLOCK_MONOTONIC, &now);
                if (now > x->deadline) {
                        log_debug("Request body too slow, closing the connection.");
                        return MHD_NO;
                }
                /* Past the limit the rest is read and dropped (libmicrohttpd 0.9.75 cannot answer
                 * before the upload ends); on_body() learns of it. */
                if (!x->overflow && body_append(x, upload, *upload_size, s->opts.max_body) < 0)
                        return MHD_NO;
                *upload_size = 0;
                return MHD_YES;
        }
        if (x->suspended)
                return MHD_YES;
        s->opts.on_body(x, s->opts.userdata);
        if (x->status != 0)
                return queue(x);
        suspend(x);
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        HttpServer *s = cls;
        HttpExchange *x = *con_cls;
        (void) c, (void) toe;

        if (!x)
                return;
        s->exchanges--;
        if (s->opts.on_done)
                s->opts.on_done(x, s->opts.userdata);
        if (x->suspended) {
                /* Cannot happen while suspended; kept out of the list all the same. */
                x->status = 503;
                suspended_remove(x);
        }
        if (x->owns_response)
                MHD_destroy_response(x->response);
        /* A body may hold a secret (a token handed to an API): wiped, whoever's it was. */
        if (x->body)
                explicit_bzero(x->body, x->size);
        free(x->body);
        free(x);
        *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char buf[512];
        (void) cls;
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = 0;
        log_debug("libmicrohttpd: %s", buf);
}

/* Decodes %XX in a request's path and arguments as libmicrohttpd does, except a URL that would
 * decode to a NUL, which stays as it came: the NUL would cut the path short, so "/a/b%00x"
 * would be taken for "/a/b". Left encoded, it matches no route. Returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri) {
        (void) cls, (void) c;
        return strstr(uri, "%00") ? strlen(uri) : MHD_http_unescape(uri);
}

int http_server_add_fd(HttpServer *s, int fd) {
        const HttpServerOptions *o = &s->opts;
        const union MHD_DaemonInfo *info;
        struct MHD_OptionItem opts[16];
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        size_t n = 0;
        HttpDaemon *grown, *d;
        int r;

        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) mhd_log, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) unescape, NULL };
        /* Refuse what HTTP/1.1 does not allow (bare LF, space before a colon, …) instead of guessing. */
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_LISTEN_SOCKET, fd, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_address, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_sec, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) o->connection_memory, NULL };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) on_completed, s };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) on_connection, s };
        if (o->tls_cert_pem && o->tls_key_pem) {
                flags |= MHD_USE_TLS;
                opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) o->tls_cert_pem };
                opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) o->tls_key_pem };
        }
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_END, 0, NULL };

        grown = realloc(s->daemons, (s->n_daemons + 1) * sizeof *grown);
        if (!grown) {
                close(fd);
                return -ENOMEM;
        }
        s->daemons = grown;
        d = &s->daemons[s->n_daemons];
        *d = (HttpDaemon) { .server = s };

        d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (!d->mhd) {
                close(fd);
                return -EIO;
        }
        info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info) {
                MHD_stop_daemon(d->mhd);
                return -EIO;
        }
        r = sd_event_add_io(s->event, &d->io, info->epoll_fd, EPOLLIN, on_io, d);
        if (r >= 0)
                /* Connection timeouts need no precision: a 1 s accuracy lets sd-event keep the
                 * timerfd as it is instead of re-arming it after every MHD_run(). */
                r = sd_event_add_time(s->event, &d->timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC, on_timer, d);
        if (r < 0) {
                sd_event_source_unref(d->io);
                MHD_stop_daemon(d->mhd);
                return r;
        }
        s->n_daemons++;
        /* A realloc may have moved earlier daemons: point their sources at the new addresses. */
        for (size_t i = 0; i < s->n_daemons; i++) {
                (void) sd_event_source_set_userdata(s->daemons[i].io, &s->daemons[i]);
                (void) sd_event_source_set_userdata(s->daemons[i].timer, &s->daemons[i]);
        }
        daemon_arm_timer(d);
        return 0;
}

void http_server_set_body_limits(HttpServer *s, size_t max_body, uint64_t body_timeout_usec) {
        s->opts.max_body = max_body ?: MAX_BODY_DEFAULT;
        s->opts.body_timeout_usec = body_timeout_usec;
}

size_t http_server_n_fds(const HttpServer *s) {
        return s->n_daemons;
}

static int on_drain_timer(sd_event_source *es, uint64_t now, void *userdata) {
        HttpServer *s = userdata;

        /* A connection kept alive between requests is closed with the server: only the requests
         * under way, and the connections whose first request may be on its way, are waited for. */
        if (s->exchanges + s->fresh > 0 && now < s->drain_deadline) {
                int r = sd_event_source_set_time(es, now + 20 * USEC_PER_MSEC);
                return r < 0 ? r : sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        s->drain_timer = sd_event_source_disable_unref(s->drain_timer);
        s->drained(s->drained_userdata);
        return 0;
}

int http_server_drain(HttpServer *s, uint64_t timeout_usec, HttpDrainedFn done, void *userdata) {
        uint64_t now;
        int r;

        if (s->drain_timer)
                return -EALREADY;
        for (size_t i = 0; i < s->n_daemons; i++) {
                /* The descriptor comes back ours: closing it leaves the service manager's copy, and
                 * with it the backlog, to the next start. */
                MHD_socket fd = MHD_quiesce_daemon(s->daemons[i].mhd);
                if (fd != MHD_INVALID_SOCKET)
                        (void) close(fd);
        }
        s->drained = done;
        s->drained_userdata = userdata;
        r = sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        s->drain_deadline = now + timeout_usec;
        return sd_event_add_time(s->event, &s->drain_timer, CLOCK_MONOTONIC, now, 0, on_drain_timer, s);
}

HttpServer *http_server_free(HttpServer *s) {
        static const char unavailable[] = "{\"error\":\"unavailable\",\"message\":\"The service is stopping.\"}";

        if (!s)
                return NULL;
        /* libmicrohttpd cannot stop with connections suspended: answer them, let it resume them. */
        while (s->suspended)
                (void) http_reply(s->suspended, 503, "application/json", unavailable, strlen(unavailable));
        for (size_t i = 0; i < s->n_daemons; i++)
                (void) MHD_run(s->daemons[i].mhd);
        for (size_t i = 0; i < s->n_daemons; i++) {
                HttpDaemon *d = &s->daemons[i];
                sd_event_source_disable_unref(d->io);
                sd_event_source_disable_unref(d->timer);
                /* MHD_stop_daemon closes the listening socket it was given. */
                MHD_stop_daemon(d->mhd);
        }
        free(s->daemons);
        sd_event_source_disable_unref(s->drain_timer);
        sd_event_source_disable_unref(s->wake);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int http_listen(const char *address, int *ret) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon = strrchr(address, ':');
        socklen_t salen;
        unsigned long port;
        char *end;
        int fd, one = 1;

        if (!colon || (size_t) (colon - address) >= sizeof host)
                return -EINVAL;
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || port > 65535)
                return -EINVAL;
        memcpy(host, address, (size_t) (colon - address));
        host[colon - address] = 0;

        if (host[0] == '[') {
                size_t l = strlen(host);
                if (l < 2 || host[l - 1] != ']')
                        return -EINVAL;
                host[l - 1] = 0;
                memmove(host, host + 1, l - 1);
        }
        if (host[0] == 0 || inet_pton(AF_INET6, host, &sa.in6.sin6_addr) == 1) {
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons((uint16_t) port);
                salen = sizeof sa.in6;
        } else if (inet_pton(AF_INET, host, &sa.in.sin_addr) == 1) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons((uint16_t) port);
                salen = sizeof sa.in;
        } else
                return -EINVAL;

        fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(fd, &sa.sa, salen) < 0 || listen(fd, SOMAXCONN) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        *ret = fd;
        return 0;
}

unsigned http_server_n_sockets(const HttpServer *s) {
        return s->n_daemons;
}
