/* SPDX-License-Identifier: MIT */
#pragma once

/* Event publishers. A table of events is an outbox: each unpublished row is XADDed to the stream
 * "events:<bot>" of the bot that tells its user, then marked published. At least once: a crash
 * between the two publishes it again with the same "event" id, which the bot dedupes (work.c).
 * Kinds: order.* and subscription.* (tgfleet-paymentd: events.h), booking.reminder
 * (tgfleet-bookingd). A publisher runs every few seconds on its own, and when kicked. */

#include "daemon.h"

typedef struct Outbox Outbox;
typedef struct Publication Publication;

typedef struct OutboxKind {
        const char *what;                 /* "order events", for the log */
        const char *unpublished_sql;      /* a batch of rows, oldest first (at most OUTBOX_BATCH) */
        const char *mark_sql;             /* $1: the ids published, a bigint[] */
        const char *const *names;         /* the entry's field names, column by column; column 0 is
                                           * the row's id, published under names[0] unless NULL */
        int n_fields;
        /* The bot whose events stream gets row @row of @res; @userdata is the publisher's. */
        const char *(*bot)(void *userdata, const PGresult *res, int row);
        /* NULL, or what must happen before @pub is published; it ends with
         * outbox_publication_ready() exactly once (an error keeps the row for the next run). */
        void (*prepare)(Publication *pub);
} OutboxKind;

#define OUTBOX_BATCH 200

/* Creates a publisher of @kind over @d's database and Redis, @userdata handed to the kind's
 * callbacks. Returns 0 or -ENOMEM. */
int outbox_new(Daemon *d, const OutboxKind *kind, void *userdata, Outbox **ret);

/* Publishes what is unpublished now (or soon after a run under way). */
void outbox_kick(Outbox *o);

/* Accepts NULL; returns NULL. Publications under way are abandoned (they are redone at start). */
Outbox *outbox_free(Outbox *o);

/* For a kind's prepare(): the publisher's userdata, and the value of the row's field @name (""
 * when none). */
void *outbox_publication_userdata(const Publication *pub);
const char *outbox_publication_field(const Publication *pub, const char *name);

/* Ends a prepare(): with @error 0 the row is published, else it waits for the next run. */
void outbox_publication_ready(Publication *pub, int error);
