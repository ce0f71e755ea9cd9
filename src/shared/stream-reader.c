/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "stream-reader.h"

#define READ_COUNT "64"

struct StreamReader {
        Redis *redis, *redis_block;
        char *stream, *group, *consumer;
        StreamEntryFn fn;
        void *userdata;
        unsigned max_in_flight;
        uint64_t claim_idle_usec, retry_usec;
        bool group_ready;
        bool reading;            /* an XREADGROUP is under way */
        bool backlog;            /* read our pending entries (from cursor) before new ones */
        char cursor[48];         /* where the backlog read continues */
        bool rescan;             /* an entry failed: read the backlog again after retry_usec */
        unsigned in_flight;
        char block_msec[16];
        sd_event_source *retry_timer;
        sd_event_source *claim_timer;
};

static void read_more(StreamReader *sr);

void stream_reader_done(StreamReader *sr, const char *id, StreamOutcome outcome) {
        const char *argv[] = { "XACK", sr->stream, sr->group, id };

        if (outcome == STREAM_ACK)
                (void) redis_command_argv(sr->redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
        else if (outcome == STREAM_RETRY)
                sr->rescan = true;
        sr->in_flight--;
        read_more(sr);
}

unsigned stream_reader_in_flight(const StreamReader *sr) {
        return sr ? sr->in_flight : 0;
}

static void hand_out(StreamReader *sr, redisReply *entry) {
        char id[48];

        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING)
                return;
        snprintf(id, sizeof id, "%s", entry->element[0]->str);
        sr->in_flight++;
        sr->fn(sr, id, entry->element[1]->type == REDIS_REPLY_ARRAY ? entry->element[1] : NULL, sr->userdata);
}

static void on_read(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;
        redisReply *entries = NULL;

        sr->reading = false;
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                if (reply)
                        log_warning("Reading %s failed: %s", sr->stream, reply->str);
                sr->group_ready = sr->group_ready && reply == NULL;
                return;   /* the retry timer or the reconnect brings us back */
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
            reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
                entries = reply->element[0]->element[1];
        if (sr->backlog) {
                if (!entries || entries->elements == 0)
                        sr->backlog = false;
                else {
                        redisReply *last = entries->element[entries->elements - 1];
                        if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1 &&
                            last->element[0]->type == REDIS_REPLY_STRING)
                                snprintf(sr->cursor, sizeof sr->cursor, "%s", last->element[0]->str);
                }
        }
        for (size_t i = 0; entries && i < entries->elements; i++)
                hand_out(sr, entries->element[i]);
        read_more(sr);
}

static void read_more(StreamReader *sr) {
        char count[16];
        int r;

        if (sr->reading || !sr->group_ready || sr->in_flight >= sr->max_in_flight)
                return;
        snprintf(count, sizeof count, "%u", MIN(sr->max_in_flight - sr->in_flight, 64u));
        if (sr->backlog) {
                const char *argv[] = { "XREADGROUP", "GROUP", sr->group, sr->consumer, "COUNT", count,
                                       "STREAMS", sr->stream, sr->cursor };
                r = redis_command_argv(sr->redis, on_read, sr, ELEMENTSOF(argv), argv, NULL);
        } else {
                const char *argv[] = { "XREADGROUP", "GROUP", sr->group, sr->consumer, "COUNT", count,
                                       "BLOCK", sr->block_msec, "STREAMS", sr->stream, ">" };
                r = redis_command_argv(sr->redis_block, on_read, sr, ELEMENTSOF(argv), argv, NULL);
        }
        sr->reading = r >= 0;
}

static void on_group(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;

        if (!reply)
                return;
        if (reply->type == REDIS_REPLY_ERROR && !startswith(reply->str, "BUSYGROUP")) {
                log_error("Cannot create consumer group %s on %s: %s", sr->group, sr->stream, reply->str);
                return;
        }
        sr->group_ready = true;
        read_more(sr);
}

static void start(StreamReader *sr) {
        /* From the stream's beginning: entries added before the first start count too. */
        const char *argv[] = { "XGROUP", "CREATE", sr->stream, sr->group, "0", "MKSTREAM" };

        sr->backlog = true;
        snprintf(sr->cursor, sizeof sr->cursor, "0");
        if (!sr->group_ready)
                (void) redis_command_argv(sr->redis, on_group, sr, ELEMENTSOF(argv), argv, NULL);
        else
                read_more(sr);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;

        /* Failed entries wait in our pending list; so may entries of a lost connection. */
        if (sr->rescan || !sr->reading) {
                sr->rescan = false;
                start(sr);
        }
        (void) sd_event_source_set_time(s, usec + sr->retry_usec);
        return 0;
}

static void on_claimed(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;

        /* [next-cursor, [entries…], (Redis 7) [deleted ids…]] */
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
            reply->element[1]->type != REDIS_REPLY_ARRAY)
                return;
        for (size_t i = 0; i < reply->element[1]->elements; i++)
                hand_out(sr, reply->element[1]->element[i]);
}

static int on_claim(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;
        char idle[24], count[16];
        const char *argv[] = { "XAUTOCLAIM", sr->stream, sr->group, sr->consumer, idle, "0-0", "COUNT", count };

        snprintf(idle, sizeof idle, "%" PRIu64, sr->claim_idle_usec / USEC_PER_MSEC);
        if (sr->group_ready && sr->in_flight < sr->max_in_flight) {
                snprintf(count, sizeof count, "%u", MIN(sr->max_in_flight - sr->in_flight, 64u));
                (void) redis_command_argv(sr->redis, on_claimed, sr, ELEMENTSOF(argv), argv, NULL);
        }
        (void) sd_event_source_set_time(s, usec + MAX(sr->claim_idle_usec / 2, USEC_PER_SEC));
        return 0;
}

int stream_reader_new(sd_event *e, Redis *redis, Redis *redis_block, uint64_t command_timeout_usec,
                      const StreamReaderOptions *o, StreamEntryFn fn, void *userdata, StreamReader **ret) {
        StreamReader *sr = calloc(1, sizeof *sr);
        uint64_t block;
        int r;

        if (!sr)
                return -ENOMEM;
        *sr = (StreamReader) {
                .redis = redis, .redis_block = redis_block, .fn = fn, .userdata = userdata,
                .max_in_flight = o->max_in_flight ? o->max_in_flight : 256,
                .claim_idle_usec = o->claim_idle_usec,
                .retry_usec = o->retry_usec ? o->retry_usec : 2 * USEC_PER_SEC,
        };
        sr->stream = strdup(o->stream);
        sr->group = strdup(o->group);
        sr->consumer = strdup(o->consumer);
        if (!sr->stream || !sr->group || !sr->consumer) {
                stream_reader_free(sr);
                return -ENOMEM;
        }
        /* A blocked read must end well within the command timeout, which would drop it. */
        block = MAX(command_timeout_usec / 2 / USEC_PER_MSEC, (uint64_t) 100);
        snprintf(sr->block_msec, sizeof sr->block_msec, "%" PRIu64, MIN(block, (uint64_t) 2000));
        r = sd_event_add_time_relative(e, &sr->retry_timer, CLOCK_MONOTONIC, sr->retry_usec, 0, on_retry, sr);
        if (r >= 0)
                (void) sd_event_source_set_enabled(sr->retry_timer, SD_EVENT_ON);
        if (r >= 0 && sr->claim_idle_usec > 0) {
                r = sd_event_add_time_relative(e, &sr->claim_timer, CLOCK_MONOTONIC,
                                               MAX(sr->claim_idle_usec / 2, USEC_PER_SEC), 0, on_claim, sr);
                if (r >= 0)
                        (void) sd_event_source_set_enabled(sr->claim_timer, SD_EVENT_ON);
        }
        if (r < 0) {
                stream_reader_free(sr);
                return r;
        }
        start(sr);
        *ret = sr;
        return 0;
}

StreamReader *stream_reader_free(StreamReader *sr) {
        if (!sr)
                return NULL;
        sd_event_source_disable_unref(sr->retry_timer);
        sd_event_source_disable_unref(sr->claim_timer);
        free(sr->stream);
        free(sr->group);
        free(sr->consumer);
        free(sr);
        return NULL;
}
