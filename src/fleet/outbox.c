/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "outbox.h"
#include "redis-keys.h"

#define INTERVAL_USEC (5 * USEC_PER_SEC)

struct Outbox {
        Daemon *d;
        void *userdata;
        const OutboxKind *kind;
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
                log_warning("Could not mark %s published (they will be published again): %s", o->kind->what,
                            res ? PQresultErrorMessage(res) : "connection lost");
        finished(o);
}

static void mark(Outbox *o) {
        const char *params[1];
        int r;

        if (o->d->stopping || !o->done || o->done_len <= 1) {
                o->full = o->full && !o->failed;
                o->done = mfree(o->done);
                o->done_len = 0;
                return finished(o);
        }
        o->done[o->done_len - 1] = '}';   /* the trailing comma */
        params[0] = o->done;
        r = pg_query(o->d->pg, o->kind->mark_sql, 1, params, on_marked, o);
        o->done = mfree(o->done);
        o->done_len = 0;
        if (r < 0)
                finished(o);
}

/* One row being published: a copy of its fields, as the row's PGresult is gone by then. */
struct Publication {
        Outbox *o;
        char id[24];
        RedisName stream;
        const char **values;     /* kind->n_fields, in the same block */
};

static void publication_done(Publication *pub, bool added) {
        Outbox *o = pub->o;
        size_t l = strlen(pub->id);

        if (added) {
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

static void on_added(Redis *r, redisReply *reply, void *userdata) {
        publication_done(userdata, reply && reply->type == REDIS_REPLY_STRING);
}

void outbox_publication_ready(Publication *pub, int error) {
        const OutboxKind *k = pub->o->kind;
        const char *argv[3 + 2 * k->n_fields];
        int argc = 0;

        if (error < 0 || pub->o->d->stopping)
                return publication_done(pub, false);
        /* No MAXLEN: an event nobody read yet must not go; its readers trim what they handled. */
        argv[argc++] = "XADD";
        argv[argc++] = pub->stream.s;
        argv[argc++] = "*";
        for (int f = 0; f < k->n_fields; f++)
                if (k->names[f]) {
                        argv[argc++] = k->names[f];
                        argv[argc++] = pub->values[f];
                }
        if (redis_command_argv(pub->o->d->redis, on_added, pub, argc, argv, NULL) < 0)
                publication_done(pub, false);
}

void *outbox_publication_userdata(const Publication *pub) {
        return pub->o->userdata;
}

const char *outbox_publication_field(const Publication *pub, const char *name) {
        for (int f = 0; f < pub->o->kind->n_fields; f++)
                if (streq_ptr(pub->o->kind->names[f], name))
                        return pub->values[f];
        return "";
}

static int publish_row(Outbox *o, const PGresult *res, int row) {
        const OutboxKind *k = o->kind;
        size_t size = sizeof(Publication) + (size_t) k->n_fields * sizeof(char *);
        Publication *pub;
        char *text;

        for (int f = 0; f < k->n_fields; f++)
                size += (size_t) PQgetlength(res, row, f) + 1;
        pub = calloc(1, size);
        if (!pub)
                return -ENOMEM;
        pub->o = o;
        pub->values = (const char **) (pub + 1);
        text = (char *) (pub->values + k->n_fields);
        for (int f = 0; f < k->n_fields; f++) {
                size_t l = (size_t) PQgetlength(res, row, f);
                memcpy(text, PQgetvalue(res, row, f), l + 1);
                pub->values[f] = text;
                text += l + 1;
        }
        snprintf(pub->id, sizeof pub->id, "%s", PQgetvalue(res, row, 0));
        pub->stream = redis_stream_events(k->bot(o->userdata, res, row));
        o->waiting++;
        if (k->prepare)
                k->prepare(pub);
        else
                outbox_publication_ready(pub, 0);
        return 0;
}

static void on_unpublished(Pg *pg, const PGresult *res, void *userdata) {
        Outbox *o = userdata;
        int n;

        if (pg_result_to_errno(res) < 0 || PQnfields(res) != o->kind->n_fields) {
                o->full = false;
                return finished(o);
        }
        n = PQntuples(res);
        o->full = n == OUTBOX_BATCH;
        o->failed = false;
        o->waiting = 1;   /* held until every row is sent */
        for (int i = 0; i < n; i++)
                if (publish_row(o, res, i) < 0) {
                        o->failed = true;
                        break;
                }
        if (--o->waiting == 0)
                mark(o);
}

static void run(Outbox *o) {
        if (o->running) {
                o->again = true;
                return;
        }
        if (o->d->stopping || !redis_is_up(o->d->redis))
                return;   /* the timer comes back */
        o->running = true;
        o->full = false;
        if (pg_query(o->d->pg, o->kind->unpublished_sql, 0, NULL, on_unpublished, o) < 0)
                o->running = false;
}


static void on_timer(void *userdata) {
        run(userdata);
}

int outbox_new(Daemon *d, const OutboxKind *kind, void *userdata, Outbox **ret) {
        Outbox *o = calloc(1, sizeof *o);
        int r;

        if (!o)
                return -ENOMEM;
        o->d = d;
        o->userdata = userdata;
        o->kind = kind;
        r = daemon_add_periodic(d->event, &o->timer, INTERVAL_USEC, on_timer, o);
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
