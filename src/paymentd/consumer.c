/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "consumer.h"
#include "log.h"
#include "stream-reader.h"

#define IN_FLIGHT_MAX 256

struct Consumer {
        Paymentd *p;
        StreamReader *reader;
};

typedef struct Entry {
        StreamReader *reader;
        char id[48];
} Entry;

static void on_confirmed(int error, const char *status, bool changed, void *userdata) {
        Entry *e = userdata;

        /* Confirmed, or not a payment of ours: done. Anything else: try again later. */
        stream_reader_done(e->reader, e->id, error == 0 || error == -ENOENT ? STREAM_ACK : STREAM_RETRY);
        free(e);
}

static void handle(StreamReader *sr, const char *id, const redisReply *fields, void *userdata) {
        Consumer *c = userdata;
        const char *provider = redis_stream_field(fields, "provider"), *payment = redis_stream_field(fields, "id");
        Entry *e;

        if (!provider || !payment) {
                /* Trimmed away or malformed: nothing to act on. */
                log_warning("Payment event %s has no provider or id; acknowledged.", id);
                return stream_reader_done(sr, id, STREAM_ACK);
        }
        if (!streq(provider, "heleket"))
                /* YooKassa events are for subscriptions: left pending for their handler. */
                return stream_reader_done(sr, id, STREAM_LEAVE);
        e = calloc(1, sizeof *e);
        if (!e)
                return stream_reader_done(sr, id, STREAM_RETRY);
        e->reader = sr;
        snprintf(e->id, sizeof e->id, "%s", id);
        if (payment_confirm(c->p, payment, NULL, "webhook", false, on_confirmed, e) < 0) {
                free(e);
                stream_reader_done(sr, id, STREAM_RETRY);
        }
}

int consumer_new(Paymentd *p, Consumer **ret) {
        Consumer *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->p = p;
        r = stream_reader_new(p->event, p->redis, p->redis_block, p->config.redis_command_timeout_usec,
                              &(StreamReaderOptions) {
                                      .stream = PAYMENTS_STREAM,
                                      .group = PAYMENTS_GROUP,
                                      .consumer = p->consumer_name,
                                      .max_in_flight = IN_FLIGHT_MAX,
                                      .claim_idle_usec = p->config.payments_claim_idle_usec,
                              },
                              handle, c, &c->reader);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

Consumer *consumer_free(Consumer *c) {
        if (!c)
                return NULL;
        stream_reader_free(c->reader);
        free(c);
        return NULL;
}
