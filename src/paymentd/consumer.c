/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "consumer.h"
#include "log.h"

#define READ_COUNT "64"
#define IN_FLIGHT_MAX 256
#define RETRY_USEC (2 * USEC_PER_SEC)

struct Consumer {
        Paymentd *p;
        bool group_ready;
        bool reading;            /* an XREADGROUP is under way */
        bool backlog;            /* read our pending entries (from cursor) before new ones */
        char cursor[48];         /* where the backlog read continues */
        bool rescan;             /* an entry failed: read the backlog again after RETRY_USEC */
        unsigned in_flight;
        char block_msec[16];
        sd_event_source *retry_timer;
        sd_event_source *claim_timer;
};

typedef struct Entry {
        Consumer *c;
        char id[48];
} Entry;

static void read_more(Consumer *c);

static void on_acked(Redis *r, redisReply *reply, void *userdata) {
        (void) r;
        (void) reply;
        (void) userdata;
}

static void entry_done(Entry *e, bool ack) {
        Consumer *c = e->c;
        const char *argv[] = { "XACK", PAYMENTS_STREAM, PAYMENTS_GROUP, e->id };

        if (ack)
                (void) redis_command_argv(c->p->redis, on_acked, NULL, 4, argv, NULL);
        else
                c->rescan = true;
        free(e);
        c->in_flight--;
        read_more(c);
}

static void on_confirmed(int error, const char *status, bool changed, void *userdata) {
        Entry *e = userdata;

        /* Confirmed, or not a payment of ours: done. Anything else: try again later. */
        entry_done(e, error == 0 || error == -ENOENT);
}

static void handle(Consumer *c, redisReply *entry) {
        redisReply *fields;
        const char *provider, *id;
        Entry *e;

        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING)
                return;
        e = calloc(1, sizeof *e);
        if (!e)
                return;
        e->c = c;
        snprintf(e->id, sizeof e->id, "%s", entry->element[0]->str);
        c->in_flight++;
        fields = entry->element[1]->type == REDIS_REPLY_ARRAY ? entry->element[1] : NULL;
        provider = redis_stream_field(fields, "provider");
        id = redis_stream_field(fields, "id");
        if (!fields || !provider || !id) {
                /* Trimmed away or malformed: nothing to act on. */
                log_warning("Payment event %s has no provider or id; acknowledged.", e->id);
                return entry_done(e, true);
        }
        if (!streq(provider, "heleket")) {
                /* YooKassa events are for subscriptions: left pending for their handler. */
                free(e);
                c->in_flight--;
                return;
        }
        if (payment_confirm(c->p, id, NULL, "webhook", false, on_confirmed, e) < 0)
                entry_done(e, false);
}

static void on_read(Redis *r, redisReply *reply, void *userdata) {
        Consumer *c = userdata;
        redisReply *entries = NULL;

        c->reading = false;
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                if (reply && !c->p->stopping)
                        log_warning("Reading %s failed: %s", PAYMENTS_STREAM, reply->str);
                c->group_ready = c->group_ready && reply == NULL;
                return;   /* the retry timer or the reconnect brings us back */
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
            reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
                entries = reply->element[0]->element[1];
        if (c->backlog) {
                if (!entries || entries->elements == 0)
                        c->backlog = false;
                else {
                        redisReply *last = entries->element[entries->elements - 1];
                        if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1 &&
                            last->element[0]->type == REDIS_REPLY_STRING)
                                snprintf(c->cursor, sizeof c->cursor, "%s", last->element[0]->str);
                }
        }
        for (size_t i = 0; entries && i < entries->elements; i++)
                handle(c, entries->element[i]);
        read_more(c);
}

static void read_more(Consumer *c) {
        Paymentd *p = c->p;
        int r;

        if (p->stopping || c->reading || !c->group_ready || c->in_flight >= IN_FLIGHT_MAX)
                return;
        if (c->backlog) {
                const char *argv[] = { "XREADGROUP", "GROUP", PAYMENTS_GROUP, p->consumer_name, "COUNT", READ_COUNT,
                                       "STREAMS", PAYMENTS_STREAM, c->cursor };
                r = redis_command_argv(p->redis, on_read, c, ELEMENTSOF(argv), argv, NULL);
        } else {
                const char *argv[] = { "XREADGROUP", "GROUP", PAYMENTS_GROUP, p->consumer_name, "COUNT", READ_COUNT,
                                       "BLOCK", c->block_msec, "STREAMS", PAYMENTS_STREAM, ">" };
                r = redis_command_argv(p->redis_block, on_read, c, ELEMENTSOF(argv), argv, NULL);
        }
        c->reading = r >= 0;
}

static void on_group(Redis *r, redisReply *reply, void *userdata) {
        Consumer *c = userdata;

        if (!reply)
                return;
        if (reply->type == REDIS_REPLY_ERROR && !startswith(reply->str, "BUSYGROUP")) {
                log_error("Cannot create consumer group %s on %s: %s", PAYMENTS_GROUP, PAYMENTS_STREAM, reply->str);
                return;
        }
        c->group_ready = true;
        read_more(c);
}

static void start(Consumer *c) {
        /* From the stream's beginning: events accepted before the first start count too. */
        const char *argv[] = { "XGROUP", "CREATE", PAYMENTS_STREAM, PAYMENTS_GROUP, "0", "MKSTREAM" };

        c->backlog = true;
        snprintf(c->cursor, sizeof c->cursor, "0");
        if (!c->group_ready)
                (void) redis_command_argv(c->p->redis, on_group, c, ELEMENTSOF(argv), argv, NULL);
        else
                read_more(c);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Consumer *c = userdata;

        /* Failed entries wait in our pending list; so may entries of a lost connection. */
        if (c->rescan || !c->reading) {
                c->rescan = false;
                if (!c->backlog) {
                        c->backlog = true;
                        snprintf(c->cursor, sizeof c->cursor, "0");
                }
                start(c);
        }
        (void) sd_event_source_set_time(s, usec + RETRY_USEC);
        return 0;
}

static void on_claimed(Redis *r, redisReply *reply, void *userdata) {
        Consumer *c = userdata;

        /* [next-cursor, [entries…], (Redis 7) [deleted ids…]] */
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
            reply->element[1]->type != REDIS_REPLY_ARRAY)
                return;
        for (size_t i = 0; i < reply->element[1]->elements; i++)
                handle(c, reply->element[1]->element[i]);
}

static int on_claim(sd_event_source *s, uint64_t usec, void *userdata) {
        Consumer *c = userdata;
        Paymentd *p = c->p;
        char idle[24];
        const char *argv[] = { "XAUTOCLAIM", PAYMENTS_STREAM, PAYMENTS_GROUP, p->consumer_name, idle, "0-0",
                               "COUNT", READ_COUNT };

        snprintf(idle, sizeof idle, "%" PRIu64, p->config.payments_claim_idle_usec / USEC_PER_MSEC);
        if (c->group_ready && !p->stopping && c->in_flight < IN_FLIGHT_MAX)
                (void) redis_command_argv(p->redis, on_claimed, c, ELEMENTSOF(argv), argv, NULL);
        (void) sd_event_source_set_time(s, usec + MAX(p->config.payments_claim_idle_usec / 2, USEC_PER_SEC));
        return 0;
}

int consumer_new(Paymentd *p, Consumer **ret) {
        Consumer *c = calloc(1, sizeof *c);
        uint64_t block;
        int r;

        if (!c)
                return -ENOMEM;
        c->p = p;
        /* A blocked read must end well within the command timeout, which would drop it. */
        block = MAX(p->config.redis_command_timeout_usec / 2 / USEC_PER_MSEC, (uint64_t) 100);
        snprintf(c->block_msec, sizeof c->block_msec, "%" PRIu64, MIN(block, (uint64_t) 2000));
        r = sd_event_add_time_relative(p->event, &c->retry_timer, CLOCK_MONOTONIC, RETRY_USEC, 0, on_retry, c);
        if (r >= 0)
                r = sd_event_add_time_relative(p->event, &c->claim_timer, CLOCK_MONOTONIC,
                                               MAX(p->config.payments_claim_idle_usec / 2, USEC_PER_SEC), 0,
                                               on_claim, c);
        if (r < 0) {
                consumer_free(c);
                return r;
        }
        (void) sd_event_source_set_enabled(c->retry_timer, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(c->claim_timer, SD_EVENT_ON);
        start(c);
        *ret = c;
        return 0;
}

unsigned consumer_in_flight(const Consumer *c) {
        return c ? c->in_flight : 0;
}

Consumer *consumer_free(Consumer *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->retry_timer);
        sd_event_source_disable_unref(c->claim_timer);
        free(c);
        return NULL;
}
