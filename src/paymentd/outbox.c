/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "outbox.h"

#define BATCH 200
#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)
#define INTERVAL_USEC (5 * USEC_PER_SEC)

#define UNPUBLISHED_SQL                                                                         \
        "SELECT e.id, 'order.' || e.to_status, o.public_id, o.user_id, o.bot, o.stars, "        \
        "o.price_minor, o.currency, coalesce(o.paid_minor, -1), e.to_status::text, "            \
        "coalesce((SELECT balance FROM ledger_accounts a WHERE a.kind = 'user' "                \
        "AND a.user_id = o.user_id), 0) "                                                      \
        "FROM order_events e JOIN orders o ON o.id = e.order_id "                               \
        "WHERE NOT e.published ORDER BY e.id LIMIT " XSTRINGIFY(BATCH)
#define MARK_SQL "UPDATE order_events SET published = true WHERE id = ANY($1::bigint[])"

enum { F_ID, F_TYPE, F_ORDER, F_USER, F_BOT, F_STARS, F_PRICE, F_CURRENCY, F_PAID, F_STATUS, F_BALANCE, _F_MAX };

struct Outbox {
        Paymentd *p;
        sd_event_source *timer;
        bool running;     /* a run is under way */
        bool again;       /* kicked during the run */
        unsigned waiting; /* XADD replies still to come */
        bool failed;      /* some XADD failed: do not mark those */
        char *done;       /* "{id,id,…," of the events XADDed; mark() closes it */
        size_t done_len;
        bool full;        /* the batch was full: more may wait */
        bool freed;
};

static void run(Outbox *o);

static void finished(Outbox *o) {
        o->running = false;
        if (o->again || o->full) {
                o->again = false;
                run(o);
        }
}

static void on_marked(Pg *pg, const PGresult *res, void *userdata) {
        Outbox *o = userdata;

        if (pg_result_to_errno(res) < 0)
                log_warning("Could not mark order events published (they will be published again): %s",
                            res ? PQresultErrorMessage(res) : "connection lost");
        finished(o);
}

static void mark(Outbox *o) {
        const char *params[1];
        int r;

        if (o->p->daemon.stopping || !o->done || o->done_len <= 1) {
                o->full = o->full && !o->failed;
                o->done = mfree(o->done);
                o->done_len = 0;
                return finished(o);
        }
        o->done[o->done_len - 1] = '}';   /* the trailing comma */
        params[0] = o->done;
        r = pg_query(o->p->daemon.pg, MARK_SQL, 1, params, on_marked, o);
        o->done = mfree(o->done);
        o->done_len = 0;
        if (r < 0)
                finished(o);
}

typedef struct Publication {
        Outbox *o;
        char id[24];
} Publication;

static void on_added(Redis *r, redisReply *reply, void *userdata) {
        Publication *pub = userdata;
        Outbox *o = pub->o;
        size_t l = strlen(pub->id);

        if (reply && reply->type == REDIS_REPLY_STRING) {
                char *n = realloc(o->done, o->done_len + l + 3);
                if (n) {
                        o->done = n;
                        if (o->done_len == 0)
                                o->done[o->done_len++] = '{';   /* a PostgreSQL array literal */
                        memcpy(o->done + o->done_len, pub->id, l);
                        o->done_len += l;
                        o->done[o->done_len++] = ',';
                        o->done[o->done_len] = 0;
                }
        } else
                o->failed = true;
        free(pub);
        if (--o->waiting == 0)
                mark(o);
}

static int publish_row(Outbox *o, const PGresult *res, int row) {
        static const char *const names[_F_MAX] = {
                [F_ID] = "event", [F_TYPE] = "type", [F_ORDER] = "order", [F_USER] = "user",
                [F_BOT] = "bot", [F_STARS] = "stars", [F_PRICE] = "price_minor", [F_CURRENCY] = "currency",
                [F_PAID] = "paid_minor", [F_STATUS] = "status", [F_BALANCE] = "balance",
        };
        const char *argv[6 + 2 * _F_MAX];
        RedisName stream = redis_stream_events(PQgetvalue(res, row, F_BOT));
        Publication *pub;
        int argc = 0, r;

        /* No MAXLEN: an event nobody read yet must not go; its readers trim what they handled. */
        argv[argc++] = "XADD";
        argv[argc++] = stream.s;
        argv[argc++] = "*";
        for (int f = 0; f < _F_MAX; f++) {
                argv[argc++] = names[f];
                argv[argc++] = PQgetvalue(res, row, f);
        }
        pub = calloc(1, sizeof *pub);
        if (!pub)
                return -ENOMEM;
        pub->o = o;
        snprintf(pub->id, sizeof pub->id, "%s", PQgetvalue(res, row, F_ID));
        r = redis_command_argv(o->p->daemon.redis, on_added, pub, argc, argv, NULL);
        if (r < 0)
                free(pub);
        return r;
}

static void on_unpublished(Pg *pg, const PGresult *res, void *userdata) {
        Outbox *o = userdata;
        int n;

        if (pg_result_to_errno(res) < 0 || PQnfields(res) != _F_MAX) {
                o->full = false;
                return finished(o);
        }
        n = PQntuples(res);
        o->full = n == BATCH;
        o->failed = false;
        o->waiting = 1;   /* held until every row is sent */
        for (int i = 0; i < n; i++) {
                if (publish_row(o, res, i) < 0) {
                        o->failed = true;
                        break;
                }
                o->waiting++;
        }
        if (--o->waiting == 0)
                mark(o);
}

static void run(Outbox *o) {
        if (o->running) {
                o->again = true;
                return;
        }
        if (o->p->daemon.stopping || !redis_is_up(o->p->daemon.redis))
                return;   /* the timer comes back */
        o->running = true;
        o->full = false;
        if (pg_query(o->p->daemon.pg, UNPUBLISHED_SQL, 0, NULL, on_unpublished, o) < 0)
                o->running = false;
}


static void on_timer(void *userdata) {
        run(userdata);
}

int outbox_new(Paymentd *p, Outbox **ret) {
        Outbox *o = calloc(1, sizeof *o);
        int r;

        if (!o)
                return -ENOMEM;
        o->p = p;
        r = daemon_add_periodic(p->daemon.event, &o->timer, INTERVAL_USEC, on_timer, o);
        if (r < 0) {
                free(o);
                return r;
        }
        *ret = o;
        return 0;
}

void outbox_kick(Outbox *o) {
        if (o)
                run(o);
}

Outbox *outbox_free(Outbox *o) {
        if (!o)
                return NULL;
        sd_event_source_disable_unref(o->timer);
        free(o->done);
        free(o);
        return NULL;
}
