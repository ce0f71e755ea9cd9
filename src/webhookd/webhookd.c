/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "enqueue.h"
#include "http-server.h"
#include "intake.h"
#include "json-util.h"
#include "log-fields.h"
#include "metrics.h"
#include "pg.h"
#include "redis.h"
#include "redis-keys.h"
#include "route.h"
#include "webhookd.h"

#define HEALTH_INTERVAL_USEC (5 * USEC_PER_SEC)
#define SECRET_MAX 4096
#define TLS_MAX (64 * 1024)

typedef struct Server {
        Daemon daemon;           /* loop, config, Redis, database */
        const DaemonArgs *args;
        Secret *webhook_key;     /* derives each bot's secret token */
        Secret *heleket_key;     /* Heleket payment API key: signature checks only */

        HttpServer *http;
        struct MHD_Response *ok;  /* the answer to every accepted webhook, built once */
        Secret *tls_cert;        /* PEM; kept while sockets may still be added */
        Secret *tls_key;
        bool db_ok;
        uint64_t db_checked;     /* CLOCK_MONOTONIC µs of the last good check */
        char payment[128];       /* paymentd's word on its providers (KEY_PAYMENT_HEALTH), "" when none */
        uint64_t payment_checked;   /* CLOCK_MONOTONIC µs of the last read of it */

        sd_event_source *health_timer;
        Metrics metrics;
} Server;

/* An intake request past its head checks. */
typedef struct Request {
        Server *server;
        HttpExchange *x;
        RouteMatch route;
        char remote[INET6_ADDRSTRLEN];
        IntakeEvent event;
        uint64_t enqueue_start;
} Request;

/* --- answering ------------------------------------------------------------------------------- */

static void count(Server *s, RouteId route, unsigned status) {
        metrics_count_request(&s->metrics, route, status);
}

static void reply_json(Server *s, HttpExchange *x, RouteId route, unsigned status, const char *json) {
        count(s, route, status);
        (void) http_reply(x, status, "application/json", json, strlen(json));
}

static void reply_reject(Server *s, HttpExchange *x, RouteId route, Reject reason, const char *remote,
                         const char *bot) {
        char body[160];
        unsigned status = reject_status(reason);

        metrics_count_reject(&s->metrics, reason);
        if (reason == REJECT_BAD_SECRET || reason == REJECT_BAD_SIGNATURE)
                log_struct(LOG_WARNING, 0,
                           LOG_FIELDS(LOG_MESSAGE_ID(MSGID_WEBHOOK_AUTH_FAILED), LOG_ROUTE(route_to_string(route)),
                             LOG_REASON(reject_to_string(reason)), LOG_REMOTE(remote), LOG_BOT(bot)),
                           "Refused %s webhook from %s: %s.", route_to_string(route), strempty(remote),
                           reject_to_string(reason));
        else if (reason == REJECT_SOURCE)
                log_struct(LOG_WARNING, 0,
                           LOG_FIELDS(LOG_MESSAGE_ID(MSGID_WEBHOOK_SOURCE_DENIED), LOG_ROUTE(route_to_string(route)),
                             LOG_REASON(reject_to_string(reason)), LOG_REMOTE(remote)),
                           "Refused %s %s from %s: address not allowed.", route_to_string(route),
                           route_is_intake(route) ? "webhook" : "request", strempty(remote));
        else
                log_debug("Refused request on route %s: %s.", route_to_string(route), reject_to_string(reason));
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", reject_to_string(reason));
        reply_json(s, x, route, status, body);
}

/* --- source addresses ------------------------------------------------------------------------ */

typedef struct ForwardedScan {
        const char *last;
} ForwardedScan;

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        ForwardedScan *f = cls;
        (void) kind;
        if (strcasecmp(key, "X-Forwarded-For") == 0)
                f->last = value;
        return MHD_YES;
}

/* The client address: the peer, or, when the peer is a trusted proxy, the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy. */
static int client_address(Server *s, HttpExchange *x, NetAddr *ret) {
        struct MHD_Connection *c = http_exchange_connection(x);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const NetList *proxies = &s->daemon.config.webhook_trusted_proxies;
        ForwardedScan f = {};
        NetAddr a;

        if (!ci || netaddr_from_sockaddr(ci->client_addr, &a) < 0)
                return -EAFNOSUPPORT;
        if (proxies->n == 0 || !netlist_contains(proxies, &a)) {
                *ret = a;
                return 0;
        }
        (void) MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &f);
        if (!f.last) {
                *ret = a;
                return 0;
        }
        _cleanup_free_ char *copy = strdup(f.last);
        if (!copy)
                return -ENOMEM;
        for (;;) {
                char *comma = strrchr(copy, ',');
                char *item = comma ? comma + 1 : copy;
                item += strspn(item, " \t");
                item[strcspn(item, " \t")] = 0;
                if (netaddr_parse(item, &a) < 0)
                        return -EINVAL;  /* a garbled header from a trusted proxy: refuse */
                if (!netlist_contains(proxies, &a) || !comma)
                        break;
                *comma = 0;
        }
        *ret = a;
        return 0;
}

/* Who may ask for @r; NULL or an empty list: anyone. */
static const NetList *allowlist_for(Server *s, RouteId r) {
        switch (r) {
        case ROUTE_TELEGRAM:
                return &s->daemon.config.webhook_telegram_allow;
        case ROUTE_HELEKET:
                return &s->daemon.config.webhook_heleket_allow;
        case ROUTE_YOOKASSA:
                return &s->daemon.config.webhook_yookassa_allow;
        case ROUTE_HEALTH_REDIS:
        case ROUTE_HEALTH_DB:
        case ROUTE_HEALTH_PAYMENT:
        case ROUTE_METRICS:
                return &s->daemon.config.webhook_monitor_allow;
        default:
                return NULL;   /* /health: for load balancers, it says no more than up or down */
        }
}

/* --- health and metrics ---------------------------------------------------------------------- */

static bool db_healthy(Server *s) {
        uint64_t now;

        (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &now);
        return s->db_ok && now < s->db_checked + 3 * HEALTH_INTERVAL_USEC;
}

/* /health/payment: 200 while paymentd says, freshly, that no provider's breaker is open. */
static void serve_payment_health(Server *s, HttpExchange *x) {
        _cleanup_(json_object_putp) json_object *said = NULL;
        bool fresh, ok;
        uint64_t now;
        char body[256];

        (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &now);
        fresh = s->payment[0] && now < s->payment_checked + 3 * HEALTH_INTERVAL_USEC &&
                json_parse(s->payment, strlen(s->payment), &said) >= 0;
        if (!fresh)
                return reply_json(s, x, ROUTE_HEALTH_PAYMENT, 503, "{\"status\":\"unavailable\",\"paymentd\":\"silent\"}");
        ok = !streq_ptr(json_get_string(said, "heleket"), "open") && !streq_ptr(json_get_string(said, "yookassa"), "open");
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"heleket\":\"%s\",\"yookassa\":\"%s\"}", ok ? "ok" : "degraded",
                 strempty(json_get_string(said, "heleket")), strempty(json_get_string(said, "yookassa")));
        reply_json(s, x, ROUTE_HEALTH_PAYMENT, ok ? 200 : 503, body);
}

static void serve_get(Server *s, HttpExchange *x, RouteId route) {
        bool redis_up = redis_is_up(s->daemon.redis), db_up = db_healthy(s);
        char body[160];

        switch (route) {
        case ROUTE_HEALTH:
                snprintf(body, sizeof body, "{\"status\":\"%s\",\"redis\":\"%s\",\"database\":\"%s\"}",
                         redis_up ? "ok" : "unavailable", redis_up ? "up" : "down", db_up ? "up" : "down");
                return reply_json(s, x, route, redis_up ? 200 : 503, body);
        case ROUTE_HEALTH_REDIS:
                snprintf(body, sizeof body, "{\"status\":\"%s\"}", redis_up ? "up" : "down");
                return reply_json(s, x, route, redis_up ? 200 : 503, body);
        case ROUTE_HEALTH_DB:
                snprintf(body, sizeof body, "{\"status\":\"%s\"}", db_up ? "up" : "down");
                return reply_json(s, x, route, db_up ? 200 : 503, body);
        case ROUTE_HEALTH_PAYMENT:
                return serve_payment_health(s, x);
        case ROUTE_METRICS: {
                struct printbuf *pb = printbuf_new();
                if (!pb || metrics_render(&s->metrics, redis_up, db_up, pb) < 0) {
                        if (pb)
                                printbuf_free(pb);
                        return reply_json(s, x, route, 500, "{\"error\":\"internal\"}");
                }
                count(s, route, 200);
                (void) http_reply(x, 200, "text/plain; version=0.0.4", pb->buf, (size_t) pb->bpos);
                printbuf_free(pb);
                return;
        }
        default:
                return reply_json(s, x, route, 404, "{\"error\":\"not_found\"}");
        }
}

static void on_db_check(Pg *pg, const PGresult *res, void *userdata) {
        Server *s = userdata;
        (void) pg;

        s->db_ok = pg_result_to_errno(res) == 0;
        if (s->db_ok)
                (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &s->db_checked);
}

static void on_payment_health(Redis *r, redisReply *reply, void *userdata) {
        Server *s = userdata;

        if (!reply || reply->type == REDIS_REPLY_ERROR)
                return;   /* Redis down: the last word ages out */
        (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &s->payment_checked);
        snprintf(s->payment, sizeof s->payment, "%s",
                 reply->type == REDIS_REPLY_STRING && reply->len < sizeof s->payment ? reply->str : "");
}

static void on_health_timer(void *userdata) {
        Server *s = userdata;
        const char *argv[] = { "GET", KEY_PAYMENT_HEALTH };

        (void) redis_command_argv(s->daemon.redis, on_payment_health, s, ELEMENTSOF(argv), argv, NULL);

        if (pg_query(s->daemon.pg, "SELECT 1", 0, NULL, on_db_check, s) < 0)
                s->db_ok = false;
}

static void status(Daemon *d, char *buf, size_t size) {
        Server *s = d->opts.userdata;
        uint64_t rejected = 0;

        for (int i = 0; i < _REJECT_MAX; i++)
                rejected += s->metrics.rejects[i];
        snprintf(buf, size, "Accepted %" PRIu64 ", duplicates %" PRIu64 ", rejected %" PRIu64 "; Redis %s, database %s",
                 s->metrics.accepted, s->metrics.duplicates, rejected, redis_is_up(d->redis) ? "up" : "down",
                 db_healthy(s) ? "up" : "down");
}

/* --- intake ---------------------------------------------------------------------------------- */

static void on_enqueued(EnqueueResult res, void *userdata) {
        Request *q = userdata;
        Server *s = q->server;
        uint64_t now;

        (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &now);
        metrics_observe_enqueue(&s->metrics, now - q->enqueue_start);
        switch (res) {
        case ENQUEUE_ADDED:
                s->metrics.accepted++;
                log_struct(LOG_DEBUG, 0,
                           LOG_FIELDS(LOG_MESSAGE_ID(MSGID_WEBHOOK_ACCEPTED), LOG_ROUTE(route_to_string(q->route.id)),
                             LOG_BOT(q->route.id == ROUTE_TELEGRAM ? q->route.bot : NULL),
                             LOG_UPDATE_ID(q->route.id == ROUTE_TELEGRAM ? q->event.id : NULL),
                             LOG_PAYMENT(q->route.id != ROUTE_TELEGRAM ? q->event.id : NULL)),
                           "Accepted %s event %s into %s.", q->event.provider, q->event.id, q->event.stream.s);
                _fallthrough_;
        case ENQUEUE_DUPLICATE:
                if (res == ENQUEUE_DUPLICATE)
                        s->metrics.duplicates++;
                count(s, q->route.id, 200);
                (void) http_reply_response(q->x, 200, s->ok);
                return;
        case ENQUEUE_NO_REPLICAS:
                return reply_reject(s, q->x, q->route.id, REJECT_REPLICAS, q->remote, NULL);
        case ENQUEUE_FAILED:
                return reply_reject(s, q->x, q->route.id, REJECT_REDIS_DOWN, q->remote, NULL);
        }
}

static Reject parse_body(Server *s, Request *q, const char *body, size_t size) {
        switch (q->route.id) {
        case ROUTE_TELEGRAM:
                return intake_telegram(q->route.bot, body, size, &q->event);
        case ROUTE_HELEKET:
                if (!s->heleket_key)
                        return REJECT_UNCONFIGURED;
                return intake_heleket(s->heleket_key, body, size, &q->event);
        case ROUTE_YOOKASSA:
                return intake_yookassa(body, size, &q->event);
        default:
                return REJECT_NOT_FOUND;
        }
}

/* The whole body is in: parse it, then enqueue it; the answer waits for Redis. */
static void on_body(HttpExchange *x, void *userdata) {
        Server *s = userdata;
        Request *q = http_exchange_get_data(x);
        EnqueueOptions o = {
                .dedupe_sec = s->daemon.config.webhook_dedupe_usec / USEC_PER_SEC,
                .min_replicas = (unsigned) s->daemon.config.redis_min_replicas_ack,
                .replica_timeout_msec = s->daemon.config.redis_replica_timeout_usec / USEC_PER_MSEC,
        };
        const char *body;
        Reject reason;
        size_t size;

        if (http_exchange_too_large(x))
                return reply_reject(s, x, q->route.id, REJECT_TOO_LARGE, q->remote, NULL);
        body = http_exchange_body(x, &size);
        reason = parse_body(s, q, body, size);
        if (reason != REJECT_NONE)
                return reply_reject(s, x, q->route.id, reason, q->remote,
                                    q->route.id == ROUTE_TELEGRAM ? q->route.bot : NULL);
        (void) sd_event_now(s->daemon.event, CLOCK_MONOTONIC, &q->enqueue_start);
        if (enqueue_event(s->daemon.redis, &o, &q->event, body, size, on_enqueued, q) < 0)
                reply_reject(s, x, q->route.id, REJECT_REDIS_DOWN, q->remote, NULL);
}

static bool secret_token_ok(Server *s, HttpExchange *x, const char *bot) {
        const char *got = http_exchange_header(x, "X-Telegram-Bot-Api-Secret-Token");
        char want[WEBHOOK_SECRET_SIZE];
        bool ok;

        if (!got || !s->webhook_key || webhook_secret_derive(s->webhook_key, bot, want) < 0)
                return false;
        ok = secret_equal(want, strlen(want), got, strlen(got));
        explicit_bzero(want, sizeof want);
        return ok;
}

/* Everything that can be decided from the head alone. */
static bool on_head(HttpExchange *x, void *userdata) {
        Server *s = userdata;
        RequestHead h = {
                .method = http_exchange_method(x),
                .path = http_exchange_path(x),
                .content_type = http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_TYPE),
                .content_length = http_exchange_header(x, MHD_HTTP_HEADER_CONTENT_LENGTH),
        };
        char remote[INET6_ADDRSTRLEN] = "";
        const NetList *allow;
        RouteMatch m = {};
        NetAddr addr;
        Reject reason;
        Request *q;

        reason = request_check_head(&h, s->daemon.config.webhook_max_body, &m);
        if (reason != REJECT_NONE) {
                reply_reject(s, x, m.id, reason, NULL, NULL);
                return false;
        }
        if (client_address(s, x, &addr) < 0) {
                reply_reject(s, x, m.id, REJECT_SOURCE, NULL, NULL);
                return false;
        }
        netaddr_to_string(&addr, remote, sizeof remote);
        allow = allowlist_for(s, m.id);
        if (allow && allow->n > 0 && !netlist_contains(allow, &addr)) {
                reply_reject(s, x, m.id, REJECT_SOURCE, remote, NULL);
                return false;
        }
        if (!route_is_intake(m.id)) {
                serve_get(s, x, m.id);
                return false;
        }
        if (m.id == ROUTE_TELEGRAM && !secret_token_ok(s, x, m.bot)) {
                reply_reject(s, x, m.id, REJECT_BAD_SECRET, remote, m.bot);
                return false;
        }
        q = calloc(1, sizeof *q);
        if (!q) {
                reply_json(s, x, m.id, 503, "{\"error\":\"out_of_memory\"}");
                return false;
        }
        *q = (Request) { .server = s, .x = x, .route = m };
        memcpy(q->remote, remote, sizeof remote);
        http_exchange_set_data(x, q);
        return true;
}

static void on_done(HttpExchange *x, void *userdata) {
        free(http_exchange_get_data(x));
}

/* --- lifecycle ------------------------------------------------------------------------------- */

/* Reads an optional credential (absent: *ret NULL); a failure to read one that is there is logged. */
static int load_secret(const char *name, size_t max, Secret **ret) {
        int r = creds_read_optional(name, max, ret);

        if (r < 0)
                return log_error_errno(r, "Failed to read credential %s: %m", name);
        return 0;
}

static int load_keys(Server *s) {
        _cleanup_(secret_freep) Secret *wk = NULL, *hk = NULL;
        int r;

        r = load_secret("webhook-key", SECRET_MAX, &wk);
        if (r < 0)
                return r;
        r = load_secret("heleket-api-key", SECRET_MAX, &hk);
        if (r < 0)
                return r;
        if (!wk)
                log_warning("No webhook-key credential: every Telegram update will be refused (401).");
        if (!hk)
                log_warning("No heleket-api-key credential: Heleket webhooks will be answered 503.");
        secret_free(s->webhook_key);
        secret_free(s->heleket_key);
        s->webhook_key = TAKE_PTR(wk);
        s->heleket_key = TAKE_PTR(hk);
        return 0;
}

/* The sockets are served once Redis answered or first failed: a socket-activated start answers
 * the update that woke it, and an update while Redis is down is answered 503 at once (Telegram
 * delivers it again). */
static int on_start(Daemon *d) {
        Server *s = d->opts.userdata;
        int r = daemon_open_http_sockets(s->http, s->args->listen.addr, s->args->listen.n, "tgfleet-webhookd.socket");

        if (r < 0)
                return r;
        log_info("Serving %zu socket(s)%s.", http_server_n_fds(s->http), s->tls_cert ? " with TLS" : "");
        return 0;
}

/* SIGHUP: the body limits and the credentials (webhook-key, heleket-api-key); a new address of
 * Redis or the database reconnects (daemon.c). */
static int reload(Daemon *d, const Config *next) {
        Server *s = d->opts.userdata;
        int r = load_keys(s);

        if (r < 0)
                return r;
        http_server_set_body_limits(s->http, next->webhook_max_body, next->webhook_connection_timeout_usec);
        return 0;
}

/* SIGTERM: what was accepted is answered (a restart loses no update), then the loop ends. */
static void drain(Daemon *d) {
        Server *s = d->opts.userdata;
        daemon_drain_http(d, s->http);
}

static int server_start(Server *s, const DaemonArgs *args) {
        Daemon *d = &s->daemon;
        HttpServerOptions o;
        int r;

        s->args = args;
        r = daemon_open(d, &(DaemonOptions) {
                .name = "webhookd", .config_path = args->config_path, .redis = true, .database = true,
                .database_optional = true,
                .ready_on = DAEMON_READY_ON_REDIS, .on_start = on_start, .status = status, .reload = reload,
                .drain = drain, .userdata = s,
        });
        if (r < 0)
                return r;
        r = load_keys(s);
        if (r < 0)
                return r;
        r = load_secret("tls-certificate", TLS_MAX, &s->tls_cert);
        if (r >= 0)
                r = load_secret("tls-key", TLS_MAX, &s->tls_key);
        if (r < 0)
                return r;
        if (!!s->tls_cert != !!s->tls_key)
                return log_error_errno(EINVAL, "TLS needs both credentials tls-certificate and tls-key.");

        o = (HttpServerOptions) {
                .max_connections = (unsigned) d->config.webhook_max_connections,
                .max_connections_per_address = (unsigned) d->config.webhook_max_connections_per_address,
                .connection_timeout_sec = (unsigned) MAX(d->config.webhook_connection_timeout_usec / USEC_PER_SEC, (uint64_t) 1),
                .connection_memory = d->config.webhook_connection_memory,
                .max_body = d->config.webhook_max_body,
                .body_timeout_usec = d->config.webhook_connection_timeout_usec,
                .tls_cert_pem = s->tls_cert ? s->tls_cert->data : NULL,
                .tls_key_pem = s->tls_key ? s->tls_key->data : NULL,
                .on_head = on_head,
                .on_body = on_body,
                .on_done = on_done,
                .userdata = s,
        };
        r = http_server_new(d->event, &o, &s->http);
        if (r < 0)
                return log_oom();
        s->ok = MHD_create_response_from_buffer(strlen("{\"ok\":true}"), (void *) "{\"ok\":true}",
                                                MHD_RESPMEM_PERSISTENT);
        if (!s->ok || MHD_add_response_header(s->ok, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json") != MHD_YES)
                return log_oom();
        r = daemon_add_periodic(d->event, &s->health_timer, HEALTH_INTERVAL_USEC, on_health_timer, s);
        if (r >= 0)
                on_health_timer(s);
        if (r < 0)
                return log_error_errno(r, "Failed to set up timers: %m");
        return 0;
}

static void server_done(Server *s) {
        /* Redis first: requests waiting for it get their 503. */
        daemon_close_io(&s->daemon);
        s->http = http_server_free(s->http);
        if (s->ok)
                MHD_destroy_response(s->ok);
        sd_event_source_disable_unref(s->health_timer);
        daemon_close(&s->daemon);
        secret_free(s->webhook_key);
        secret_free(s->heleket_key);
        secret_free(s->tls_cert);
        secret_free(s->tls_key);
}

int webhookd_run(const DaemonArgs *args) {
        Server s = {};
        int r;

        r = server_start(&s, args);
        if (r >= 0)
                r = daemon_run(&s.daemon);
        server_done(&s);
        return r < 0 ? r : 0;
}
