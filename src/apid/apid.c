/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "request.h"

#define API_TOKEN_MAX 4096
#define STATUS_INTERVAL_USEC (2 * USEC_PER_SEC)

static void send_status(Apid *a) {
        sd_notifyf(false, "STATUS=Requests %" PRIu64 " (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64
                   "), unauthorized %" PRIu64 ", tasks queued %" PRIu64,
                   a->stats.requests, a->stats.by_class[2], a->stats.by_class[4], a->stats.by_class[5],
                   a->stats.unauthorized, a->stats.deploys_queued);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        send_status(userdata);
        (void) sd_event_source_set_time(s, usec + STATUS_INTERVAL_USEC);
        return 0;
}

/* The sockets are served once the database answers: until then clients wait in the backlog
 * instead of getting 503. */
static void on_database_up(Pg *pg, void *userdata) {
        Apid *a = userdata;

        if (http_server_n_fds(a->http) > 0)
                return;
        if (http_server_open_sockets(a->http, a->args->listen.addr, a->args->listen.n, "tgfleet-apid.socket") < 0) {
                (void) sd_event_exit(a->event, -EINVAL);
                return;
        }
        log_info("Serving %zu socket(s).", http_server_n_fds(a->http));
        sd_notify(false, "READY=1");
        send_status(a);
}

/* On every answer: nothing of the API is to be cached. */
static const char *const answer_headers[] = { MHD_HTTP_HEADER_CACHE_CONTROL, "no-store", NULL };

static int setup(Apid *a, const ApidArgs *args) {
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
        r = config_load(&a->config, args->config_path);
        if (r < 0)
                return r;
        r = creds_read("api-token", API_TOKEN_MAX, &a->api_token);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential api-token: %m");
        if (a->api_token->size < API_TOKEN_MIN)
                return log_error_errno(EINVAL, "Credential api-token has %zu characters; it needs at least %d "
                                       "(e.g. from \"openssl rand -base64 32\").", a->api_token->size, API_TOKEN_MIN);

        r = daemon_event_new(&a->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m");
        r = http_server_new(a->event, &o, &a->http);
        if (r < 0)
                return log_oom();
        r = http_client_new(a->event, &a->http_client);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl: %m");
        r = sd_bus_open_system(&a->bus);
        if (r >= 0)
                r = sd_bus_attach_event(a->bus, a->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        r = pg_new(a->event, a->config.database_url, a->config.database_query_timeout_usec, &a->pg);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the database connection: %m");
        pg_set_up_callback(a->pg, on_database_up, a);
        r = sd_event_add_time_relative(a->event, &a->status_timer, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 0,
                                       on_status_timer, a);
        if (r < 0)
                return log_error_errno(r, "Cannot add the status timer: %m");
        (void) sd_event_source_set_enabled(a->status_timer, SD_EVENT_ON);
        return 0;
}

static void teardown(Apid *a) {
        /* The database first: waiting requests get their 503 and are resumed before the HTTP
         * server stops. */
        a->pg = pg_free(a->pg);
        a->http_client = http_client_free(a->http_client);
        a->bus = sd_bus_flush_close_unref(a->bus);
        a->http = http_server_free(a->http);
        a->status_timer = sd_event_source_disable_unref(a->status_timer);
        a->event = sd_event_unref(a->event);
        a->api_token = secret_free(a->api_token);
        config_done(&a->config);
}

int apid_run(const ApidArgs *args) {
        Apid a = {};
        int r;

        r = setup(&a, args);
        if (r >= 0) {
                r = sd_event_loop(a.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        teardown(&a);
        return r;
}
