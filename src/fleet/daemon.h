/* SPDX-License-Identifier: MIT */
#pragma once

/* The skeleton every tgfleet daemon runs on. daemon_open() reads the configuration and the
 * "redis-password" credential, makes the event loop (SIGTERM and SIGINT end it, SIGHUP reloads,
 * the systemd watchdog is fed from it) and connects the backends the daemon asks for. Once its
 * readiness backend (Redis, or the database) first answers or first fails, on_start() runs and
 * READY=1 goes out; once it is up, on_ready() runs. STATUS= follows every 2 s when its text
 * changed, first saying what the daemon waits for ("Waiting for PostgreSQL (why)."), and the
 * journal gets one line per change of each backend: waiting, lost, back. With @schema, the
 * database counts as up only once it has every migration this build knows. Closing is in one order:
 * daemon_close_io() frees the HTTP client, the database and Redis, so that whatever is under way
 * ends through its callbacks with an error (and starts nothing new: stopping is set); the daemon
 * then frees what it built on them; daemon_close() flushes and closes the bus, then the loop and
 * the configuration.
 *
 * SIGHUP: the configuration is read again and, valid, handed to the daemon's reload(), which
 * takes what may change while running (and re-reads its credentials); a new address of the
 * database, or of Redis for a daemon without stream readers, reconnects. Invalid, or refused by
 * reload(), it changes nothing and the daemon goes on as it was. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http-client.h"
#include "http-server.h"
#include "pg.h"
#include "redis.h"
#include "stream-reader.h"

#define DAEMON_BLOCKING_MAX 2
#define DAEMON_STATUS_MAX 512

typedef struct Daemon Daemon;

typedef enum DaemonReadyOn {
        DAEMON_READY_ON_REDIS,       /* the first time Redis is up */
        DAEMON_READY_ON_DATABASE,    /* the first time the database answers */
} DaemonReadyOn;

typedef struct DaemonOptions {
        const char *name;            /* "paymentd": logs, and the consumer name without a host name */
        const char *config_path;
        const char *consumer;        /* --consumer=NAME, or NULL for the host name */
        bool redis;                  /* a Redis connection for commands */
        unsigned redis_blocking;     /* and this many more for blocking reads */
        bool database;
        bool http_client;
        bool system_bus;
        bool database_optional;      /* only reported on (webhookd's /health/db): not waited for */
        bool schema;                 /* the database counts as up only with every migration applied */
        DaemonReadyOn ready_on;
        /* NULL, or what the daemon does before READY=1, once its readiness backend first answered
         * or first failed (serving: a request while it is down is answered 503); < 0 ends it. */
        int (*on_start)(Daemon *d);
        /* NULL, or what the daemon does the first time its readiness backend is up; < 0 ends it. */
        int (*on_ready)(Daemon *d);
        /* NULL, or what the daemon does each time the database is up (again) once it is ready: the
         * work a query that could not be sent while it was down had started. */
        void (*on_database_up)(Daemon *d);
        /* NULL, or the STATUS= text into @buf. */
        void (*status)(Daemon *d, char *buf, size_t size);
        /* NULL, or SIGHUP with a new configuration, valid: take what may change while running (and
         * re-read credentials). Returns 0 to switch to it, < 0 (logged) to keep the running one. */
        int (*reload)(Daemon *d, const Config *next);
        /* NULL, or what SIGTERM starts: finishing what was accepted (daemon_drain_http()), after
         * which the loop ends; a second SIGTERM ends it at once. NULL: the loop ends at once. */
        void (*drain)(Daemon *d);
        void *userdata;              /* the daemon's own state */
} DaemonOptions;

/* What the journal was told of a backend. */
typedef struct DaemonBackend {
        bool ever_up;
        bool down;
} DaemonBackend;

struct Daemon {
        DaemonOptions opts;
        sd_event *event;
        Config config;
        char consumer[160];
        Redis *redis;
        Redis *redis_blocking[DAEMON_BLOCKING_MAX];
        Pg *pg;
        HttpClient *http;
        sd_bus *bus;
        char bus_peer[108];          /* the socket of a peer-to-peer bus, or empty (the system bus) */
        DaemonBackend redis_state, database_state;
        bool started;                /* READY=1 was sent */
        bool ready;                  /* on_ready() ran: the readiness backend has been up */
        bool draining;               /* SIGTERM came; finishing what was accepted */
        bool stopping;               /* closing: start nothing new */
        char status[DAEMON_STATUS_MAX];
        sd_event_source *status_timer;
};

/* Opens @d as @o asks. Returns 0, or a negative errno (logged): then call daemon_close_io() and
 * daemon_close() all the same. */
int daemon_open(Daemon *d, const DaemonOptions *o);

/* Connects to the system bus, for a daemon that learns only after daemon_open() that it needs it.
 * Returns 0 or a negative errno (logged). */
int daemon_connect_bus(Daemon *d);

/* Connects the daemon's bus to another daemon's own socket at @path (unix:path=), peer to peer:
 * no bus driver, the other end knows this process by its peer credentials. A connection that
 * fails, or is lost later, is made again by daemon_bus(). Returns 0 or a negative errno (logged
 * as a warning: the calls fail until the other daemon is there). */
int daemon_connect_peer(Daemon *d, const char *path);

/* The daemon's bus (borrowed): for a peer connection, made again first when it is not up. NULL
 * when there is none. */
sd_bus *daemon_bus(Daemon *d);

/* Runs the loop until SIGTERM/SIGINT or sd_event_exit(), then says STOPPING=1. Returns the loop's
 * result (logged when < 0). */
int daemon_run(Daemon *d);

/* Sends STATUS= now when its text changed (a counter moved); the timer does so every 2 s. */
void daemon_update_status(Daemon *d);

/* The first half of closing, see above. */
void daemon_close_io(Daemon *d);

/* The second half. Accepts a daemon never opened (zeroed). */
void daemon_close(Daemon *d);

/* Serves @vtable (with @userdata) at @path and takes the bus name @name on the daemon's system bus.
 * Returns 0 or a negative errno from sd-bus. */
int daemon_publish(Daemon *d, const char *name, const char *path, const char *interface, const sd_bus_vtable *vtable,
                   void *userdata);

/* A timer source calling @fn every @interval_usec (the first time after one interval). The
 * source is the caller's (sd_event_source_disable_unref()). Returns 0 or -errno. */
typedef void (*DaemonPeriodicFn)(void *userdata);
int daemon_add_periodic(sd_event *e, sd_event_source **ret, uint64_t interval_usec, DaemonPeriodicFn fn,
                        void *userdata);

/* The same, with the interval read from *@interval_usec at each turn (a setting in the daemon's
 * Config, which a reload may change; it must outlive the source), and at least @min_usec. */
int daemon_add_periodic_setting(sd_event *e, sd_event_source **ret, const uint64_t *interval_usec, uint64_t min_usec,
                                DaemonPeriodicFn fn, void *userdata);

/* Creates the default sd-event loop that exits on SIGTERM and SIGINT and pings the systemd
 * watchdog when WATCHDOG_USEC asks for it. SIGTERM, SIGINT and SIGHUP are blocked (a caller may add
 * its own SIGHUP source; without one SIGHUP is ignored) and SIGPIPE is ignored. Returns 0 and a
 * new reference in *ret, or -errno. daemon_open() uses it; programs that are no daemon may too. */
int daemon_event_new(sd_event **ret);

/* A daemon's name in its consumer groups: @given (from --consumer=), else the host name, else
 * @fallback. */
void daemon_consumer_name(const char *given, const char *fallback, char *buf, size_t size);

/* Serves the listening stream sockets the service manager passed under the name "http"
 * (FileDescriptorName=), or, when it passed none, listens on each of the @n_listen addresses of
 * @listen ("ADDR:PORT"). Any other socket passed is an error. @socket_unit names the .socket unit
 * in the error when there is nothing to serve. Returns 0 or a negative errno (logged). */
int daemon_open_http_sockets(HttpServer *s, char *const *listen, size_t n_listen, const char *socket_unit);

/* A drain for a daemon that serves HTTP: @s takes no new connection (a socket-activated one's
 * wait in the backlog for the next start), and the loop ends once the open ones are over, or
 * after 5 s. */
void daemon_drain_http(Daemon *d, HttpServer *s);

/* A StreamFailedFn for every reader of a daemon: logs the failure as a warning. */
void daemon_stream_failed(StreamReader *sr, const char *what, const char *stream, const char *message, void *userdata);
