/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "consumer.h"
#include "log-fields.h"
#include "stream-reader.h"

#define HELD_MAX 256

struct Consumer {
        Paymentd *p;
        StreamReader *reader;
};

typedef struct Event {
        StreamEntry entry;
        Consumer *c;
        bool yookassa;
        bool refund;              /* a YooKassa refund.* event: @payment is the refund's id */
        char payment[128];
} Event;

static void on_confirmed(int error, const char *status, bool changed, void *userdata) {
        Event *ev = userdata;

        /* Confirmed, not a payment of ours, or refused (logged for an operator): done. Anything
         * else: again after the retry pause. */
        stream_reader_done(ev->c->reader, &ev->entry,
                           error == 0 || error == -ENOENT || error == -EBADMSG ? STREAM_ACK : STREAM_RETRY);
}

static int take(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields, void *userdata,
                StreamEntry **ret) {
        const char *provider = redis_stream_field(fields, "provider"), *payment = redis_stream_field(fields, "id");
        const char *event = redis_stream_field(fields, "event");
        Consumer *c = userdata;
        bool yookassa;
        Event *ev;

        if (!provider || !payment || strlen(payment) >= sizeof ev->payment) {
                log_warning("Payment event %s has no provider or id; acknowledged.", id);
                return STREAM_ACK;
        }
        /* YooKassa's payment.* and refund.* events are confirmed here (with YooKassa configured). */
        yookassa = streq(provider, "yookassa") && c->p->yookassa && event &&
                   (startswith(event, "payment.") || startswith(event, "refund."));
        if (!streq(provider, "heleket") && !yookassa) {
                /* Money that arrived is never dropped: kept aside, in full, for whoever handles it. */
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_PAYMENT(payment)),
                           "Payment event %s from %s has no handler here; kept in %s:dead.", id, provider, STREAM_PAYMENTS);
                return STREAM_DEAD;
        }
        ev = calloc(1, sizeof *ev);
        if (!ev)
                return -ENOMEM;
        ev->c = c;
        ev->yookassa = yookassa;
        ev->refund = yookassa && startswith(event, "refund.");
        strcpy(ev->payment, payment);
        *ret = &ev->entry;
        return 0;
}

static void handle(StreamReader *sr, StreamEntry *e, void *userdata) {
        Consumer *c = userdata;
        Event *ev = container_of(e, Event, entry);

        int r = ev->yookassa ? subscription_confirm(c->p, ev->payment, "webhook", ev->refund, on_confirmed, ev)
                             : payment_confirm(c->p, ev->payment, NULL, "webhook", false, on_confirmed, ev);

        if (r < 0)
                stream_reader_done(sr, e, STREAM_RETRY);
}

static void free_event(StreamEntry *e) {
        free(container_of(e, Event, entry));
}

int consumer_new(Paymentd *p, Consumer **ret) {
        static const StreamSpec streams[] = { { .name = STREAM_PAYMENTS } };
        Consumer *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->p = p;
        r = stream_reader_new(p->daemon.event, p->daemon.redis, p->daemon.redis_blocking[0],
                              &(StreamReaderOptions) {
                                      .streams = streams,
                                      .n_streams = 1,
                                      .group = GROUP_PAYMENTD,
                                      .consumer = p->daemon.consumer,
                                      .max_held = HELD_MAX,
                                      .claim_idle_usec = p->daemon.config.payments_claim_idle_usec,
                                      .retention_usec = p->daemon.config.redis_stream_retention_usec,
                                      .command_timeout_usec = p->daemon.config.redis_command_timeout_usec,
                                      .take = take,
                                      .handle = handle,
                                      .free_entry = free_event,
                                      .failed = daemon_stream_failed,
                                      .userdata = c,
                              },
                              &c->reader);
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
