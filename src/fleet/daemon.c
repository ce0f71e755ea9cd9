/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "creds.h"
#include "daemon.h"
#include "log-fields.h"

#define STATUS_INTERVAL_USEC (2 * USEC_PER_SEC)
#define SECRET_MAX 4096
#define DRAIN_USEC (5 * USEC_PER_SEC)   /* well within systemd's TimeoutStopSec= (90 s) */

/* With @term NULL, SIGTERM and SIGINT end the loop; else they call @term. */
static int event_new(sd_event **ret, sd_event_signal_handler_t term, void *userdata) {
        sd_event *e = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, term, userdata);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, term, userdata);
        if (r >= 0)
                r = sd_event_set_watchdog(e, true);
        if (r < 0) {
                sd_event_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

int daemon_event_new(sd_event **ret) {
        return event_new(ret, NULL, NULL);
}

/* SIGTERM, SIGINT: the daemon finishes what it accepted first, when it says how; a second
 * signal ends at once. */
static int on_terminate(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        if (!d->opts.drain || d->draining)
                return sd_event_exit(d->event, 0);
        d->draining = true;
        sd_notify(false, "STOPPING=1");
        d->opts.drain(d);
        return 0;
}

static void on_drained(void *userdata) {
        Daemon *d = userdata;
        (void) sd_event_exit(d->event, 0);
}

void daemon_drain_http(Daemon *d, HttpServer *s) {
        log_info("Stopping: no new connections; finishing the open ones.");
        if (!s || http_server_drain(s, DRAIN_USEC, on_drained, d) < 0)
                (void) sd_event_exit(d->event, 0);
}

void daemon_consumer_name(const char *given, const char *fallback, char *buf, size_t size) {
        char host[256] = "";

        if (!given && gethostname(host, sizeof host - 1) == 0 && host[0])
                given = host;
        snprintf(buf, size, "%s", given ?: fallback);
}

/* --- periodic timers ------------------------------------------------------------------------------ */

typedef struct Periodic {
        DaemonPeriodicFn fn;
        void *userdata;
        const uint64_t *interval;     /* &fixed, or a setting */
        uint64_t fixed, min;
} Periodic;

static uint64_t periodic_interval(const Periodic *p) {
        return MAX(*p->interval, p->min);
}

static int on_periodic(sd_event_source *s, uint64_t usec, void *userdata) {
        Periodic *p = userdata;

        p->fn(p->userdata);
        return sd_event_source_set_time(s, usec + periodic_interval(p));
}

int daemon_add_periodic(sd_event *e, sd_event_source **ret, uint64_t interval_usec, DaemonPeriodicFn fn,
                        void *userdata) {
        return daemon_add_periodic_setting(e, ret, NULL, interval_usec, fn, userdata);
}

int daemon_add_periodic_setting(sd_event *e, sd_event_source **ret, const uint64_t *interval_usec, uint64_t min_usec,
                                DaemonPeriodicFn fn, void *userdata) {
        _cleanup_free_ Periodic *p = malloc(sizeof *p);
        sd_event_source *s = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        *p = (Periodic) { .fn = fn, .userdata = userdata, .fixed = min_usec, .min = min_usec };
        p->interval = interval_usec ?: &p->fixed;
        r = sd_event_add_time_relative(e, &s, CLOCK_MONOTONIC, periodic_interval(p), 0, on_periodic, p);
        if (r >= 0)
                r = sd_event_source_set_destroy_callback(s, free);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (r < 0) {
                sd_event_source_unref(s);
                return r;
        }
        TAKE_PTR(p);
        *ret = s;
        return 0;
}

/* --- readiness and status -------------------------------------------------------------------------- */

/* "Waiting for PostgreSQL (why). " for each backend the daemon has that is down, into @buf. */
static size_t waiting_text(const Daemon *d, char *buf, size_t size) {
        size_t n = 0;

        if (d->opts.database && !d->opts.database_optional && !pg_is_up(d->pg))
                n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "Waiting for PostgreSQL (%s). ",
                                       d->pg ? pg_error(d->pg) : "not set up");
        if (d->opts.redis && !redis_is_up(d->redis))
                n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "Waiting for Redis (%s). ",
                                       d->redis ? redis_error(d->redis) : "not set up");
        return MIN(n, size ? size - 1 : 0);
}

void daemon_update_status(Daemon *d) {
        char status[sizeof d->status];
        size_t n;

        if (!d->started)
                return;
        memcpy(status, "STATUS=", 7);
        n = 7 + waiting_text(d, status + 7, sizeof status - 7);
        if (d->ready && d->opts.status)
                d->opts.status(d, status + n, sizeof status - n);
        else if (n > 7)
                status[n - 1] = 0;   /* the space after the last "." */
        else
                snprintf(status + n, sizeof status - n, "Starting.");
        if (streq(status, d->status))
                return;
        strcpy(d->status, status);
        sd_notify(false, status);
}

static void on_status_timer(void *userdata) {
        daemon_update_status(userdata);
}

/* The readiness backend answered, or its first attempt failed: the daemon serves (answering 503
 * while it is down) and tells systemd it is up, so that an outage at boot is a running service
 * that says what it waits for, not a start that times out. */
static void start(Daemon *d) {
        int r;

        if (d->started || d->stopping)
                return;
        r = d->opts.on_start ? d->opts.on_start(d) : 0;
        if (r < 0) {
                (void) sd_event_exit(d->event, r);
                return;
        }
        d->started = true;
        sd_notify(false, "READY=1");
}

/* The readiness backend is up for the first time. */
static void become_ready(Daemon *d) {
        int r;

        start(d);
        if (d->ready || !d->started)
                return;
        r = d->opts.on_ready ? d->opts.on_ready(d) : 0;
        if (r < 0) {
                (void) sd_event_exit(d->event, r);
                return;
        }
        d->ready = true;
}

/* One line in the journal per change: not reachable yet, lost, back. */
static void log_backend(const char *what, bool up, DaemonBackend *b, const char *error, const char *msgid_down,
                        const char *msgid_up) {
        if (up && b->down)
                log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_MESSAGE_ID(msgid_up)), "%s connection is back.", what);
        else if (!up && !b->ever_up)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(msgid_down)),
                           "Waiting for %s (%s); retrying until it answers.", what, error);
        else if (!up)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(msgid_down)),
                           "%s connection lost (%s); reconnecting.", what, error);
        b->down = !up;
        b->ever_up |= up;
}

static void on_backend_state(Daemon *d, DaemonReadyOn which, bool up) {
        if (which == d->opts.ready_on) {
                if (up)
                        become_ready(d);
                else
                        start(d);
        }
        daemon_update_status(d);
}

static void on_redis_state(Redis *r, bool up, void *userdata) {
        Daemon *d = userdata;

        log_backend("Redis", up, &d->redis_state, redis_error(r), MSGID_REDIS_DOWN, MSGID_REDIS_UP);
        on_backend_state(d, DAEMON_READY_ON_REDIS, up);
}

static void on_database_state(Pg *pg, bool up, void *userdata) {
        Daemon *d = userdata;

        log_backend("PostgreSQL", up, &d->database_state, pg_error(pg), MSGID_DATABASE_DOWN, MSGID_DATABASE_UP);
        on_backend_state(d, DAEMON_READY_ON_DATABASE, up);
        if (up && d->ready && d->opts.on_database_up)
                d->opts.on_database_up(d);
}

/* The schema check: the database has every migration this build knows. */
static int check_schema(const PGresult *res, char *why, size_t size, void *userdata) {
        long have = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ?
                    strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;

        if (have >= TGFLEET_SCHEMA_VERSION)
                return 0;
        snprintf(why, size, "its schema is at version %ld of %d; tgfleet-migrate.service applies the rest",
                 have, TGFLEET_SCHEMA_VERSION);
        return -EAGAIN;
}

/* --- reload ----------------------------------------------------------------------------------------- */

static int connect_redis(Daemon *d) {
        _cleanup_(secret_freep) Secret *password = NULL;
        int r;

        r = creds_read_optional("redis-password", SECRET_MAX, &password);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential redis-password: %m");
        r = redis_new(d->event, d->config.redis_url, password, d->config.redis_command_timeout_usec, &d->redis);
        for (unsigned i = 0; r >= 0 && i < MIN(d->opts.redis_blocking, (unsigned) DAEMON_BLOCKING_MAX); i++)
                r = redis_new(d->event, d->config.redis_url, password, d->config.redis_command_timeout_usec,
                              &d->redis_blocking[i]);
        if (r < 0)
                return log_error_errno(r, "Invalid [Redis] URL=: %m");
        redis_set_state_callback(d->redis, on_redis_state, d);
        return 0;
}

static int connect_database(Daemon *d) {
        int r = pg_new(d->event, d->config.database_url, d->config.database_query_timeout_usec, &d->pg);

        if (r >= 0 && d->opts.schema)
                r = pg_set_check(d->pg, "SELECT max(version) FROM schema_migrations", check_schema, d);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the database connection: %m");
        pg_set_state_callback(d->pg, on_database_state, d);
        return 0;
}

/* Keeps @name of the running configuration in @next: the address of Redis changes only with a
 * restart of a daemon whose stream readers hold the connection. */
static int keep_address(char **next, const char *running, const char *name) {
        char *copy;

        if (streq(*next, running))
                return 0;
        copy = strdup(running);
        if (!copy)
                return -ENOMEM;
        log_notice("%s changed: restart the service to use the new address.", name);
        free(*next);
        *next = copy;
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;
        Config next = {};
        int r;

        bool redis_moved = false, database_moved = false;

        sd_notify(false, "RELOADING=1");
        r = config_load(&next, d->opts.config_path);
        if (r >= 0 && d->opts.redis_blocking > 0)
                r = keep_address(&next.redis_url, d->config.redis_url, "[Redis] URL=");
        if (r >= 0) {
                redis_moved = d->redis && !streq(next.redis_url, d->config.redis_url);
                database_moved = d->pg && !streq(next.database_url, d->config.database_url);
        }
        if (r >= 0 && d->opts.reload)
                r = d->opts.reload(d, &next);
        if (r < 0) {
                config_done(&next);   /* still zeroed when it could not be read */
                log_error("Reload failed; going on with the running configuration.");
        } else {
                config_done(&d->config);
                d->config = next;
                /* What is under way on the old connection fails (503) and is tried again by its sender. */
                if (redis_moved) {
                        d->redis = redis_free(d->redis);
                        if (connect_redis(d) < 0)
                                log_error("Reconnecting to Redis after the reload failed.");
                }
                if (database_moved) {
                        d->pg = pg_free(d->pg);
                        if (connect_database(d) < 0)
                                log_error("Reconnecting to the database after the reload failed.");
                }
                log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_CONFIG_RELOADED)), "Configuration reloaded.");
        }
        sd_notify(false, "READY=1");
        daemon_update_status(d);
        return 0;
}

/* --- open and close --------------------------------------------------------------------------------- */

int daemon_open(Daemon *d, const DaemonOptions *o) {
        int r;

        *d = (Daemon) { .opts = *o };
        r = config_load(&d->config, o->config_path);
        if (r < 0)
                return r;   /* config_load() said why */
        daemon_consumer_name(o->consumer, o->name, d->consumer, sizeof d->consumer);
        r = event_new(&d->event, on_terminate, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
        if (r >= 0)
                r = daemon_add_periodic(d->event, &d->status_timer, STATUS_INTERVAL_USEC, on_status_timer, d);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m");
        if (o->redis && (r = connect_redis(d)) < 0)
                return r;
        if (o->database && (r = connect_database(d)) < 0)
                return r;
        if (o->http_client) {
                r = http_client_new(d->event, &d->http);
                if (r < 0)
                        return log_error_errno(r, "Cannot set up libcurl: %m");
        }
        if (o->system_bus)
                return daemon_connect_bus(d);
        return 0;
}

int daemon_connect_bus(Daemon *d) {
        int r = sd_bus_open_system(&d->bus);

        if (r >= 0)
                r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m");
        return 0;
}

static int on_peer_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Daemon *d = userdata;

        /* sd-bus has failed every call under way before it says so; @m holds the bus meanwhile. */
        log_warning("Lost the connection to %s; connecting again at the next call.", d->bus_peer);
        d->bus = sd_bus_flush_close_unref(d->bus);
        return 0;
}

int daemon_connect_peer(Daemon *d, const char *path) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char address[sizeof d->bus_peer + 16];
        int r;

        if (path && snprintf(d->bus_peer, sizeof d->bus_peer, "%s", path) >= (int) sizeof d->bus_peer)
                return log_error_errno(-ENAMETOOLONG, "The socket path %s is too long.", path);
        snprintf(address, sizeof address, "unix:path=%s", d->bus_peer);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                        "Disconnected", on_peer_disconnected, d);
        if (r >= 0)
                r = sd_bus_attach_event(bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_warning_errno(r, "Cannot connect to %s: %m", d->bus_peer);
        sd_bus_flush_close_unref(d->bus);
        d->bus = TAKE_PTR(bus);
        return 0;
}

sd_bus *daemon_bus(Daemon *d) {
        if (!d->bus && d->bus_peer[0] && !d->stopping)
                (void) daemon_connect_peer(d, NULL);
        return d->bus;
}

int daemon_publish(Daemon *d, const char *name, const char *path, const char *interface, const sd_bus_vtable *vtable,
                   void *userdata) {
        int r = sd_bus_add_object_vtable(d->bus, NULL, path, interface, vtable, userdata);

        return r < 0 ? r : sd_bus_request_name(d->bus, name, 0);
}

int daemon_run(Daemon *d) {
        int r = sd_event_loop(d->event);

        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        return r;
}

void daemon_close_io(Daemon *d) {
        d->stopping = true;
        d->http = http_client_free(d->http);
        d->pg = pg_free(d->pg);
        d->redis = redis_free(d->redis);
        for (unsigned i = 0; i < DAEMON_BLOCKING_MAX; i++)
                d->redis_blocking[i] = redis_free(d->redis_blocking[i]);
}

void daemon_close(Daemon *d) {
        if (d->bus)
                sd_bus_flush(d->bus);
        d->bus = sd_bus_flush_close_unref(d->bus);
        d->status_timer = sd_event_source_disable_unref(d->status_timer);
        d->event = sd_event_unref(d->event);
        config_done(&d->config);
}

int daemon_open_http_sockets(HttpServer *s, char *const *listen, size_t n_listen, const char *socket_unit) {
        char **names = NULL;
        int n, r = 0;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to take sockets from the service manager: %m");
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i, k;
                const char *name = names ? names[i] : "?";
                if (!streq(name, "http")) {
                        k = log_error_errno(EINVAL, "Passed socket %s is not ours: name the socket "
                                            "FileDescriptorName=http.", name);
                        (void) close(fd);
                } else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        k = log_error_errno(EINVAL, "Passed socket %s is not a listening stream socket.", name);
                        (void) close(fd);
                } else if ((k = http_server_add_fd(s, fd)) < 0)
                        log_error_errno(k, "Failed to serve socket %s: %m", name);
                if (k < 0 && r >= 0)
                        r = k;
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return r;
        for (size_t i = 0; n == 0 && i < n_listen; i++) {
                int fd;
                r = http_listen(listen[i], &fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on %s: %m", listen[i]);
                r = http_server_add_fd(s, fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to serve %s: %m", listen[i]);
        }
        if (http_server_n_sockets(s) == 0)
                return log_error_errno(EINVAL, "No socket to serve: run from %s or pass --listen=.", socket_unit);
        return 0;
}

void daemon_stream_failed(StreamReader *sr, const char *what, const char *stream, const char *message, void *userdata) {
        log_warning("%s on %s failed: %s", what, stream, message);
}
