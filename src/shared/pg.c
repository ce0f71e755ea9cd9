/* SPDX-License-Identifier: MIT */
#include <sys/epoll.h>

#include "log.h"
#include "pg.h"

#define RECONNECT_MIN_USEC (200 * USEC_PER_MSEC)
#define RECONNECT_MAX_USEC (5 * USEC_PER_SEC)

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
        PGconn *conn;
        bool up;
        PgUpFn on_up;
        void *on_up_userdata;
        bool sent;                    /* the head query was sent */
        sd_event_source *io;
        sd_event_source *reconnect_timer;
        uint64_t backoff_usec;
        PgQuery *head, *tail;
        PGresult *last;               /* last result of the head query */
};

static void query_free(PgQuery *q) {
        for (int i = 0; i < q->n; i++)
                free(q->params[i]);
        free(q->params);
        free(q->sql);
        free(q);
}

static void fail_all(Pg *pg) {
        while (pg->head) {
                PgQuery *q = pg->head;
                pg->head = q->next;
                if (q->cb)
                        q->cb(pg, NULL, q->userdata);
                query_free(q);
        }
        pg->tail = NULL;
        pg->sent = false;
        pg->last = pg->last ? (PQclear(pg->last), NULL) : NULL;
}

static void start_connect(Pg *pg);

static void drop_connection(Pg *pg) {
        uint64_t now;

        pg->io = sd_event_source_disable_unref(pg->io);
        if (pg->conn) {
                PQfinish(pg->conn);
                pg->conn = NULL;
        }
        if (pg->up)
                log_warning("PostgreSQL connection lost.");
        pg->up = false;
        fail_all(pg);
        pg->backoff_usec = pg->backoff_usec ? MIN(pg->backoff_usec * 2, RECONNECT_MAX_USEC) : RECONNECT_MIN_USEC;
        (void) sd_event_now(pg->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(pg->reconnect_timer, now + pg->backoff_usec);
        (void) sd_event_source_set_enabled(pg->reconnect_timer, SD_EVENT_ONESHOT);
}

static void send_next(Pg *pg) {
        PgQuery *q = pg->head;

        if (!q || pg->sent || !pg->up)
                return;
        if (!PQsendQueryParams(pg->conn, q->sql, q->n, NULL, (const char *const *) q->params, NULL, NULL, 0)) {
                log_debug("PQsendQueryParams: %s", PQerrorMessage(pg->conn));
                drop_connection(pg);
                return;
        }
        pg->sent = true;
        (void) PQflush(pg->conn);
}

static void watch(Pg *pg, uint32_t events) {
        (void) sd_event_source_set_io_events(pg->io, events);
}

static void handle_results(Pg *pg) {
        if (!PQconsumeInput(pg->conn)) {
                drop_connection(pg);
                return;
        }
        while (pg->sent && !PQisBusy(pg->conn)) {
                PGresult *res = PQgetResult(pg->conn);
                if (res) {
                        /* Keep the last of possibly several results (a multi-statement query). */
                        if (pg->last)
                                PQclear(pg->last);
                        pg->last = res;
                        continue;
                }
                PgQuery *q = pg->head;
                pg->head = q->next;
                if (!pg->head)
                        pg->tail = NULL;
                pg->sent = false;
                PGresult *last = TAKE_PTR(pg->last);
                if (q->cb)
                        q->cb(pg, last, q->userdata);
                PQclear(last);
                query_free(q);
                if (!pg->conn)
                        return; /* the callback freed or dropped us */
                send_next(pg);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Pg *pg = userdata;
        (void) s, (void) fd;

        if (!pg->up) {
                PostgresPollingStatusType st = PQconnectPoll(pg->conn);
                /* libpq may move to another socket while connecting (next host, SSL fallback). */
                if (PQsocket(pg->conn) >= 0 && PQsocket(pg->conn) != sd_event_source_get_io_fd(pg->io))
                        (void) sd_event_source_set_io_fd(pg->io, PQsocket(pg->conn));
                switch (st) {
                case PGRES_POLLING_READING:
                        watch(pg, EPOLLIN);
                        return 0;
                case PGRES_POLLING_WRITING:
                        watch(pg, EPOLLOUT);
                        return 0;
                case PGRES_POLLING_OK:
                        if (PQsetnonblocking(pg->conn, 1) < 0) {
                                drop_connection(pg);
                                return 0;
                        }
                        pg->up = true;
                        pg->backoff_usec = 0;
                        log_debug("PostgreSQL connected.");
                        watch(pg, EPOLLIN);
                        send_next(pg);
                        if (pg->on_up)
                                pg->on_up(pg, pg->on_up_userdata);
                        return 0;
                default:
                        log_debug("PostgreSQL connection failed: %s", PQerrorMessage(pg->conn));
                        drop_connection(pg);
                        return 0;
                }
        }
        if (revents & EPOLLOUT) {
                int f = PQflush(pg->conn);
                if (f < 0) {
                        drop_connection(pg);
                        return 0;
                }
                watch(pg, f > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                handle_results(pg);
        return 0;
}

static void start_connect(Pg *pg) {
        pg->conn = PQconnectStart(pg->conninfo);
        if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD ||
            sd_event_add_io(pg->event, &pg->io, PQsocket(pg->conn), EPOLLOUT, on_io, pg) < 0) {
                drop_connection(pg);
                return;
        }
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s, (void) usec;
        start_connect(userdata);
        return 0;
}

int pg_new(sd_event *e, const char *conninfo, Pg **ret) {
        Pg *pg = calloc(1, sizeof *pg);
        int r;

        if (!pg)
                return -ENOMEM;
        pg->event = sd_event_ref(e);
        pg->conninfo = strdup(conninfo);
        if (!pg->conninfo) {
                pg_free(pg);
                return -ENOMEM;
        }
        r = sd_event_add_time(e, &pg->reconnect_timer, CLOCK_MONOTONIC, 0, 0, on_reconnect, pg);
        if (r < 0) {
                pg_free(pg);
                return r;
        }
        (void) sd_event_source_set_enabled(pg->reconnect_timer, SD_EVENT_OFF);
        start_connect(pg);
        *ret = pg;
        return 0;
}

void pg_set_up_callback(Pg *pg, PgUpFn cb, void *userdata) {
        pg->on_up = cb;
        pg->on_up_userdata = userdata;
}

int pg_query(Pg *pg, const char *sql, int n, const char *const *params, PgResultFn cb, void *userdata) {
        PgQuery *q;

        if (!pg->up)
                return -ENOTCONN;
        q = calloc(1, sizeof *q);
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
        send_next(pg);
        return 0;
}

Pg *pg_free(Pg *pg) {
        if (!pg)
                return NULL;
        fail_all(pg);
        sd_event_source_disable_unref(pg->io);
        sd_event_source_disable_unref(pg->reconnect_timer);
        if (pg->conn)
                PQfinish(pg->conn);
        free(pg->conninfo);
        sd_event_unref(pg->event);
        free(pg);
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
