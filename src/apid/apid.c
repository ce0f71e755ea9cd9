/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "request.h"

#define API_TOKEN_MAX 4096

static void status(Daemon *d, char *buf, size_t size) {
        Apid *a = d->opts.userdata;

        snprintf(buf, size, "Requests %" PRIu64 " (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64
                 "), unauthorized %" PRIu64 ", tasks queued %" PRIu64,
                 a->stats.requests, a->stats.by_class[2], a->stats.by_class[4], a->stats.by_class[5],
                 a->stats.unauthorized, a->stats.deploys_queued);
}

/* The sockets are served once the database answered or first failed: a request while it is down
 * is answered 503 at once. */
static int on_start(Daemon *d) {
        Apid *a = d->opts.userdata;
        int r = daemon_open_http_sockets(a->server, a->args->listen.addr, a->args->listen.n, "tgfleet-apid.socket");

        if (r < 0)
                return r;
        log_info("Serving %zu socket(s).", http_server_n_fds(a->server));
        return 0;
}

static int read_api_token(Secret **ret) {
        _cleanup_(secret_freep) Secret *t = NULL;
        int r = creds_read("api-token", API_TOKEN_MAX, &t);

        if (r < 0)
                return log_error_errno(r, "Cannot read credential api-token: %m");
        if (t->size < API_TOKEN_MIN)
                return log_error_errno(EINVAL, "Credential api-token has %zu characters; it needs at least %d "
                                       "(e.g. from \"openssl rand -base64 32\").", t->size, API_TOKEN_MIN);
        *ret = TAKE_PTR(t);
        return 0;
}

/* SIGHUP: a rotated api-token takes effect for the requests that come next. */
static int reload(Daemon *d, const Config *next) {
        Apid *a = d->opts.userdata;
        Secret *t = NULL;
        int r = read_api_token(&t);

        if (r < 0)
                return r;
        secret_free(a->api_token);
        a->api_token = t;
        return 0;
}

/* On every answer: nothing of the API is to be cached. */
static const char *const answer_headers[] = { MHD_HTTP_HEADER_CACHE_CONTROL, "no-store", NULL };

/* SIGTERM: requests under way are answered first (a restart, an idle stop). */
static void drain(Daemon *d) {
        Apid *a = d->opts.userdata;
        daemon_drain_http(d, a->server);
}

static int setup(Apid *a, const DaemonArgs *args) {
        HttpServerOptions o = {
                .max_connections = 256,
                .max_connections_per_address = 64,
                .connection_timeout_sec = 30,
                .connection_memory = 32 * 1024,
                .max_body = REQUEST_BODY_MAX,
                .body_timeout_usec = 30 * USEC_PER_SEC,
                .headers = answer_headers,
                .www_authenticate = "Bearer",
                .on_head = request_on_head,
                .on_body = request_on_body,
                .on_done = request_on_done,
                .userdata = a,
        };
        int r;

        a->args = args;
        r = daemon_open(&a->daemon, &(DaemonOptions) {
                .name = "apid", .config_path = args->config_path, .database = true, .schema = true, .http_client = true,
                .ready_on = DAEMON_READY_ON_DATABASE, .on_start = on_start, .status = status, .reload = reload,
                .drain = drain, .userdata = a,
        });
        if (r < 0)
                return r;
        r = read_api_token(&a->api_token);
        if (r >= 0)
                r = daemon_connect_bus(&a->daemon);
        if (r < 0)
                return r;
        r = http_server_new(a->daemon.event, &o, &a->server);
        if (r < 0)
                return log_oom();
        return 0;
}

static void teardown(Apid *a) {
        /* The backends first: waiting requests get their 503 before the HTTP server stops (which
         * answers 503 to any still waiting, a Deploy1 call on the bus). */
        daemon_close_io(&a->daemon);
        a->server = http_server_free(a->server);
        daemon_close(&a->daemon);
        a->api_token = secret_free(a->api_token);
}

int apid_run(const DaemonArgs *args) {
        Apid a = {};
        int r;

        r = setup(&a, args);
        if (r >= 0)
                r = daemon_run(&a.daemon);
        teardown(&a);
        return r;
}
