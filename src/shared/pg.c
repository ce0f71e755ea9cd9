/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "pg.h"

#define RECONNECT_MIN_USEC (200 * USEC_PER_MSEC)
#define RECONNECT_MAX_USEC (5 * USEC_PER_SEC)
/* Queries sent ahead of their answers: the server always has the next one to run, and what a lost
 * connection leaves unknown stays small. */
#define PIPELINE_MAX 32

typedef struct PgQuery {
        struct PgQuery *next;
        PgResultFn cb;
        void *userdata;
        int n;
        char *sql;
        char **params;
} PgQuery;

struct Pg {
        sd_event *event;
        char *conninfo;
        uint64_t timeout_usec;
        sd_event_source *timeout_timer;   /* armed while a query is out: for the oldest one */
        unsigned calling;             /* callbacks under way */
        bool freed;                   /* pg_free() was called from one: free once it returns */
        PGconn *conn;
        bool checking;                /* connected; the check query is out */
        bool up;
        bool down_told;               /* on_state heard of this outage (or of the first failure) */
        PgStateFn on_state;
        void *on_state_userdata;
        char *check_sql;
        PgCheckFn check;
        void *check_userdata;
        char *listen_sql;             /* "LISTEN channel", sent first on each connection */
        PgNotifyFn on_notify;
        void *on_notify_userdata;
        char error[256];              /* why the connection last failed or was dropped */
        sd_event_source *io;
        sd_event_source *reconnect_timer;
        uint64_t backoff_usec;
        PgQuery *head, *tail;         /* the FIFO: the first @sent of it are out, each with a Sync */
        PgQuery *unsent;              /* the first one not sent, or NULL */
        unsigned sent;
        bool synced;                  /* the head's result is complete: its Sync comes next */
        PGresult *last;               /* last result of the head query */
};

_printf_(2, 3) static void set_error(Pg *pg, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(pg->error, sizeof pg->error, format, ap);
        va_end(ap);
        pg->error[strcspn(pg->error, "\n")] = 0;   /* libpq ends its messages with a newline */
}

static void query_free(PgQuery *q) {
        for (int i = 0; i < q->n; i++)
                free(q->params[i]);
        free(q->params);
        free(q->sql);
        free(q);
}

static void pg_destroy(Pg *pg);

/* Every way into this file from outside (the loop's callbacks, pg_query(), pg_free()) holds @pg
 * between enter() and leave(): a user's callback may free it, and it goes only at the last leave. */
static void enter(Pg *pg) {
        pg->calling++;
}

static void leave(Pg *pg) {
        if (--pg->calling == 0 && pg->freed)
                pg_destroy(pg);
}

/* Hands @q its result and frees it. Returns false when the callback freed @pg: the caller stops
 * and leaves. */
static bool complete(Pg *pg, PgQuery *q, const PGresult *res) {
        if (q->cb)
                q->cb(pg, res, q->userdata);
        query_free(q);
        return !pg->freed;
}

/* Fails every query queued. Returns false when a callback freed @pg. */
static bool fail_all(Pg *pg) {
        pg->sent = 0;
        pg->synced = false;
        pg->unsent = NULL;
        pg->last = pg->last ? (PQclear(pg->last), NULL) : NULL;
        (void) sd_event_source_set_enabled(pg->timeout_timer, SD_EVENT_OFF);
        while (pg->head) {
                PgQuery *q = pg->head;
                pg->head = q->next;
                if (!pg->head)
                        pg->tail = NULL;
                if (!complete(pg, q, NULL))
                        return false;
        }
        return true;
}

static void start_connect(Pg *pg);
static int enqueue(Pg *pg, const char *sql, int n, const char *const *params, PgResultFn cb, void *userdata);

static void drop_connection(Pg *pg) {
        uint64_t now;

        pg->io = sd_event_source_disable_unref(pg->io);
        if (pg->conn) {
                if (!pg->error[0])
                        set_error(pg, "%s", PQerrorMessage(pg->conn));
                PQfinish(pg->conn);
                pg->conn = NULL;
        }
        pg->checking = false;
        pg->up = false;
        if (!pg->down_told) {
                log_debug("PostgreSQL connection down: %s", pg->error);
                pg->down_told = true;
                if (pg->on_state && !pg->freed)
                        pg->on_state(pg, false, pg->on_state_userdata);
                if (pg->freed)
                        return;
        }
        if (!fail_all(pg))
                return;
        pg->backoff_usec = pg->backoff_usec ? MIN(pg->backoff_usec * 2, RECONNECT_MAX_USEC) : RECONNECT_MIN_USEC;
        (void) sd_event_now(pg->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(pg->reconnect_timer, now + pg->backoff_usec);
        (void) sd_event_source_set_enabled(pg->reconnect_timer, SD_EVENT_ONESHOT);
}

static void watch(Pg *pg, uint32_t events) {
        (void) sd_event_source_set_io_events(pg->io, events);
}

/* Writes what libpq holds; what the socket does not take now goes when it drains (EPOLLOUT). */
static void flush(Pg *pg) {
        int f = PQflush(pg->conn);

        if (f < 0)
                return drop_connection(pg);
        watch(pg, f > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void arm_timeout(Pg *pg) {
        (void) sd_event_source_set_time_relative(pg->timeout_timer, pg->timeout_usec);
        (void) sd_event_source_set_enabled(pg->timeout_timer, SD_EVENT_ONESHOT);
}

/* Sends what is queued, up to PIPELINE_MAX ahead of the answers, each query its own Sync (its own
 * implicit transaction: one failing aborts no other). */
static void send_pending(Pg *pg) {
        unsigned before = pg->sent;

        if (!pg->up)
                return;
        for (; pg->unsent && pg->sent < PIPELINE_MAX; pg->unsent = pg->unsent->next, pg->sent++) {
                PgQuery *q = pg->unsent;
                if (!PQsendQueryParams(pg->conn, q->sql, q->n, NULL, (const char *const *) q->params, NULL, NULL, 0) ||
                    !PQpipelineSync(pg->conn)) {
                        log_debug("PQsendQueryParams: %s", PQerrorMessage(pg->conn));
                        return drop_connection(pg);
                }
        }
        if (pg->sent == before)
                return;
        if (before == 0)
                arm_timeout(pg);
        flush(pg);
}

/* Takes the answers in order: a query's results end with a NULL, then comes its Sync. */
static void take_results(Pg *pg) {
        while (pg->sent > 0 && !PQisBusy(pg->conn)) {
                PGresult *res = PQgetResult(pg->conn);
                if (pg->synced) {
                        if (!res)
                                break;
                        bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
                        PQclear(res);
                        if (!sync) {
                                set_error(pg, "PostgreSQL answered out of order");
                                return drop_connection(pg);
                        }
                        pg->synced = false;
                        if (--pg->sent > 0)
                                arm_timeout(pg);
                        else
                                (void) sd_event_source_set_enabled(pg->timeout_timer, SD_EVENT_OFF);
                        send_pending(pg);
                        if (!pg->conn)
                                return;
                        continue;
                }
                if (res) {
                        if (pg->last)
                                PQclear(pg->last);
                        pg->last = res;
                        continue;
                }
                PgQuery *q = pg->head;
                pg->head = q->next;
                if (!pg->head)
                        pg->tail = NULL;
                pg->synced = true;
                _cleanup_(PQclearp) PGresult *last = TAKE_PTR(pg->last);
                if (!complete(pg, q, last))
                        return;   /* the callback freed us */
                if (!pg->conn)
                        return;   /* the callback dropped the connection */
        }
}

/* Hands out the notifications read so far, but those of this connection's own statements. */
static void deliver_notifies(Pg *pg) {
        int self = PQbackendPID(pg->conn);
        PGnotify *n;

        while (pg->conn && (n = PQnotifies(pg->conn))) {
                if (n->be_pid != self && pg->on_notify)
                        pg->on_notify(pg, n->extra, pg->on_notify_userdata);
                PQfreemem(n);
                if (pg->freed)
                        return;
        }
}

/* Reads what the server sent: answers, and notifications between and among them. */
static void handle_input(Pg *pg) {
        if (!PQconsumeInput(pg->conn))
                return drop_connection(pg);
        take_results(pg);
        if (!pg->freed && pg->conn)
                deliver_notifies(pg);
}

/* Connected, and the check passed: queries go. */
static void become_up(Pg *pg) {
        (void) sd_event_source_set_enabled(pg->timeout_timer, SD_EVENT_OFF);
        if (!PQenterPipelineMode(pg->conn))
                return drop_connection(pg);
        pg->up = true;
        pg->down_told = false;
        pg->backoff_usec = 0;
        pg->error[0] = 0;
        log_debug("PostgreSQL connected.");
        watch(pg, EPOLLIN);
        /* Nothing is queued while down: the LISTEN goes first, before the state callback's queries. */
        if (pg->listen_sql && enqueue(pg, pg->listen_sql, 0, NULL, NULL, NULL) < 0)
                return drop_connection(pg);
        pg->unsent = pg->head;
        send_pending(pg);
        if (pg->on_state && !pg->freed)
                pg->on_state(pg, true, pg->on_state_userdata);
}

/* The check query's answer: up when the check accepts it, else dropped (and tried again) with
 * its reason as the error. */
static void check_step(Pg *pg, uint32_t revents) {
        _cleanup_(PQclearp) PGresult *res = NULL;
        PGresult *more;
        int r;

        if (revents & EPOLLOUT) {
                flush(pg);
                if (!pg->conn)
                        return;
        }
        if (!PQconsumeInput(pg->conn))
                return drop_connection(pg);
        if (PQisBusy(pg->conn))
                return;
        res = PQgetResult(pg->conn);
        while ((more = PQgetResult(pg->conn)))
                PQclear(more);
        pg->checking = false;
        r = pg->check(res, pg->error, sizeof pg->error, pg->check_userdata);
        if (r < 0)
                return drop_connection(pg);
        become_up(pg);
}

static void io_step(Pg *pg, uint32_t revents) {
        if (pg->checking)
                return check_step(pg, revents);
        if (!pg->up) {
                PostgresPollingStatusType st = PQconnectPoll(pg->conn);
                /* libpq may move to another socket while connecting (next host, SSL fallback). */
                if (PQsocket(pg->conn) >= 0 && PQsocket(pg->conn) != sd_event_source_get_io_fd(pg->io))
                        (void) sd_event_source_set_io_fd(pg->io, PQsocket(pg->conn));
                switch (st) {
                case PGRES_POLLING_READING:
                        return watch(pg, EPOLLIN);
                case PGRES_POLLING_WRITING:
                        return watch(pg, EPOLLOUT);
                case PGRES_POLLING_OK:
                        if (PQsetnonblocking(pg->conn, 1) < 0)
                                return drop_connection(pg);
                        if (!pg->check_sql)
                                return become_up(pg);
                        if (!PQsendQuery(pg->conn, pg->check_sql))
                                return drop_connection(pg);
                        pg->checking = true;
                        return flush(pg);
                default:
                        set_error(pg, "%s", PQerrorMessage(pg->conn));
                        log_debug("PostgreSQL connection failed: %s", pg->error);
                        return drop_connection(pg);
                }
        }
        if (revents & EPOLLOUT) {
                flush(pg);
                if (pg->freed || !pg->conn)
                        return;
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                handle_input(pg);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Pg *pg = userdata;

        enter(pg);
        io_step(pg, revents);
        leave(pg);
        return 0;
}

static void start_connect(Pg *pg) {
        pg->conn = PQconnectStart(pg->conninfo);
        if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD ||
            sd_event_add_io(pg->event, &pg->io, PQsocket(pg->conn), EPOLLOUT, on_io, pg) < 0) {
                drop_connection(pg);
                return;
        }
        arm_timeout(pg);   /* an unreachable host is given up on like a hung query */
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Pg *pg = userdata;

        enter(pg);
        start_connect(pg);
        leave(pg);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Pg *pg = userdata;

        set_error(pg, "no answer %s within %llu ms", pg->up ? "to a query" : "to the connection",
                  (unsigned long long) (pg->timeout_usec / USEC_PER_MSEC));
        enter(pg);
        drop_connection(pg);
        leave(pg);
        return 0;
}

int pg_new(sd_event *e, const char *conninfo, uint64_t query_timeout_usec, Pg **ret) {
        Pg *pg = calloc(1, sizeof *pg);
        int r;

        if (!pg)
                return -ENOMEM;
        pg->event = sd_event_ref(e);
        pg->timeout_usec = query_timeout_usec ?: 30 * USEC_PER_SEC;
        pg->conninfo = strdup(conninfo);
        if (!pg->conninfo) {
                pg_free(pg);
                return -ENOMEM;
        }
        r = sd_event_add_time(e, &pg->reconnect_timer, CLOCK_MONOTONIC, 0, 0, on_reconnect, pg);
        if (r >= 0)
                r = sd_event_add_time(e, &pg->timeout_timer, CLOCK_MONOTONIC, 0, 0, on_timeout, pg);
        if (r >= 0)
                r = sd_event_source_set_enabled(pg->timeout_timer, SD_EVENT_OFF);
        if (r < 0) {
                pg_free(pg);
                return r;
        }
        /* The first attempt from the loop, once the caller has set its callbacks. */
        (void) sd_event_source_set_enabled(pg->reconnect_timer, SD_EVENT_ONESHOT);
        *ret = pg;
        return 0;
}

const char *pg_error(const Pg *pg) {
        return pg->error[0] ? pg->error : "unknown error";
}

bool pg_is_up(const Pg *pg) {
        return pg && pg->up;
}

int pg_set_check(Pg *pg, const char *sql, PgCheckFn check, void *userdata) {
        char *copy = strdup(sql);

        if (!copy)
                return -ENOMEM;
        free(pg->check_sql);
        pg->check_sql = copy;
        pg->check = check;
        pg->check_userdata = userdata;
        return 0;
}

int pg_listen(Pg *pg, const char *channel, PgNotifyFn cb, void *userdata) {
        size_t len = channel ? strlen(channel) : 0;

        if (len == 0 || len > 63 || strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
                return -EINVAL;
        char *sql;
        if (asprintf(&sql, "LISTEN %s", channel) < 0)
                return -ENOMEM;
        free(pg->listen_sql);
        pg->listen_sql = sql;
        pg->on_notify = cb;
        pg->on_notify_userdata = userdata;
        return 0;
}

void pg_set_state_callback(Pg *pg, PgStateFn cb, void *userdata) {
        pg->on_state = cb;
        pg->on_state_userdata = userdata;
}

/* Puts a copy of the query at the end of the FIFO, unsent. Returns 0 or -ENOMEM. */
static int enqueue(Pg *pg, const char *sql, int n, const char *const *params, PgResultFn cb, void *userdata) {
        PgQuery *q = calloc(1, sizeof *q);

        if (!q)
                return -ENOMEM;
        q->cb = cb;
        q->userdata = userdata;
        q->sql = strdup(sql);
        q->params = n > 0 ? calloc((size_t) n, sizeof(char *)) : NULL;
        if (!q->sql || (n > 0 && !q->params)) {
                query_free(q);
                return -ENOMEM;
        }
        for (; q->n < n; q->n++)
                if (params[q->n] && !(q->params[q->n] = strdup(params[q->n]))) {
                        query_free(q);
                        return -ENOMEM;
                }
        if (pg->tail)
                pg->tail->next = q;
        else
                pg->head = q;
        pg->tail = q;
        if (!pg->unsent)
                pg->unsent = q;
        return 0;
}

int pg_query(Pg *pg, const char *sql, int n, const char *const *params, PgResultFn cb, void *userdata) {
        int r;

        if (!pg->up || pg->freed)
                return -ENOTCONN;
        r = enqueue(pg, sql, n, params, cb, userdata);
        if (r < 0)
                return r;
        enter(pg);
        send_pending(pg);
        leave(pg);
        return 0;
}

static void pg_destroy(Pg *pg) {
        pg->last = pg->last ? (PQclear(pg->last), NULL) : NULL;
        pg->io = sd_event_source_disable_unref(pg->io);
        pg->reconnect_timer = sd_event_source_disable_unref(pg->reconnect_timer);
        pg->timeout_timer = sd_event_source_disable_unref(pg->timeout_timer);
        if (pg->conn)
                PQfinish(pg->conn);
        free(pg->conninfo);
        free(pg->check_sql);
        free(pg->listen_sql);
        sd_event_unref(pg->event);
        free(pg);
}

Pg *pg_free(Pg *pg) {
        if (!pg || pg->freed)
                return NULL;
        enter(pg);
        pg->freed = true;
        /* The queries queued still get their one call each. */
        while (pg->head) {
                PgQuery *q = pg->head;
                pg->head = q->next;
                (void) complete(pg, q, NULL);
        }
        pg->tail = NULL;
        leave(pg);
        return NULL;
}

int pg_result_to_errno(const PGresult *res) {
        if (!res)
                return -EIO;
        switch (PQresultStatus(res)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
                return 0;
        default:
                return -EIO;
        }
}
