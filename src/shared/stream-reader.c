/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "redis-script.h"
#include "stream-reader.h"

#define READ_COUNT 64u
#define HELD_BUCKETS 1024u
#define TICK_USEC USEC_PER_SEC
#define TRIM_DELAY_MAX_USEC (5 * USEC_PER_SEC)
#define DEAD_MAXLEN "100000"

/* KEYS: stream, dead-letter stream. ARGV: group, entry id, "1" when the stream is erased (its
 * fields may hold secrets: not copied, and the entry deleted). */
static RedisScript dead_script = REDIS_SCRIPT(
        "local fields = {'from_stream', KEYS[1], 'from_entry', ARGV[2]}\n"
        "if ARGV[3] ~= '1' then\n"
        "  local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])\n"
        "  if e[1] then for _, v in ipairs(e[1][2]) do fields[#fields + 1] = v end end\n"
        "end\n"
        "redis.call('XADD', KEYS[2], 'MAXLEN', '~', '" DEAD_MAXLEN "', '*', unpack(fields))\n"
        "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
        "if ARGV[3] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end\n"
        "return 1\n");

/* Trims what every group has acknowledged and is older than the retention. KEYS: stream. ARGV:
 * retention in ms. An entry stays while a group has not read it (after its last-delivered-id) or
 * not acknowledged it (from its first pending entry on). Returns the entries trimmed. */
static RedisScript trim_script = REDIS_SCRIPT(
        "local function less(a, b)\n"
        "  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
        "  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
        "  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n"
        "  return am < bm or (am == bm and as < bs)\n"
        "end\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local min = string.format('%d-0', math.max(now - tonumber(ARGV[1]), 0))\n"
        "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
        "  local h = {}\n"
        "  for i = 1, #g, 2 do h[g[i]] = g[i + 1] end\n"
        "  local keep = h['last-delivered-id']\n"
        "  if tonumber(h['pending']) > 0 then keep = redis.call('XPENDING', KEYS[1], h['name'])[2] end\n"
        "  if less(keep, min) then min = keep end\n"
        "end\n"
        "return redis.call('XTRIM', KEYS[1], 'MINID', '~', min)\n");

typedef struct Stream {
        char *name, *dead;
        bool erase;
        char cursor[STREAM_ID_MAX];        /* where the pass over our pending entries continues */
        char claim_cursor[STREAM_ID_MAX];  /* where XAUTOCLAIM continues */
} Stream;

struct StreamReader {
        Redis *redis, *redis_block;
        Stream streams[STREAM_READER_STREAMS_MAX];
        unsigned n_streams;
        char *group, *consumer;
        bool ordered;
        unsigned max_held;
        uint64_t claim_idle_usec, retry_usec, retention_usec;
        char block_msec[16];
        StreamTakeFn take;
        StreamHandleFn handle;
        StreamFreeFn free_entry;
        StreamFailedFn failed_cb;
        void *userdata;

        unsigned group_answers;   /* XGROUP CREATE replies still to come */
        bool group_failed;
        bool group_ready;
        /* The pass over our pending entries. While one is due or under way no new entries are
         * read, and those an outstanding read brings are left to the pass, which finds them
         * (they are pending for us): a failed entry keeps its place before the later ones. */
        bool scan;
        bool scan_wait;           /* it waits for the retry pause */
        bool scanning;            /* its read is outstanding */
        bool scan_stale;          /* that read belongs to a pass started over since */
        bool scan_again;          /* start another pass when this one ends */
        bool scan_lost;           /* a connection was lost: start over once it is back */
        bool blocking;            /* the read of new entries is outstanding */
        bool claiming;
        unsigned claim_stream;
        bool acked;               /* acknowledged since the last trim */

        unsigned held;
        StreamEntry *held_buckets[HELD_BUCKETS];
        ChatMap keys;             /* ordered: the line of each key */
        StreamEntry *ready_head, *ready_tail;

        sd_event_source *dispatch;   /* hands out ready entries, outside of any caller's callback */
        sd_event_source *tick, *retry_timer, *claim_timer, *trim_timer;
};

static void pump(StreamReader *sr);

const char *stream_reader_stream(const StreamReader *sr, unsigned stream) {
        return stream < sr->n_streams ? sr->streams[stream].name : NULL;
}

unsigned stream_reader_held(const StreamReader *sr) {
        return sr ? sr->held : 0;
}

/* --- the held set -------------------------------------------------------------------------------- */

static unsigned held_slot(unsigned stream, const char *id) {
        uint32_t h = 2166136261u ^ stream;

        for (; *id; id++)
                h = (h ^ (uint8_t) *id) * 16777619u;
        return h % HELD_BUCKETS;
}

static bool held_has(const StreamReader *sr, unsigned stream, const char *id) {
        for (const StreamEntry *e = sr->held_buckets[held_slot(stream, id)]; e; e = e->held_next)
                if (e->stream == stream && streq(e->id, id))
                        return true;
        return false;
}

static void held_add(StreamReader *sr, StreamEntry *e) {
        StreamEntry **b = &sr->held_buckets[held_slot(e->stream, e->id)];

        e->held_next = *b;
        *b = e;
        sr->held++;
}

static void held_remove(StreamReader *sr, StreamEntry *e) {
        StreamEntry **p = &sr->held_buckets[held_slot(e->stream, e->id)];

        while (*p && *p != e)
                p = &(*p)->held_next;
        if (*p) {
                *p = e->held_next;
                sr->held--;
        }
}

/* --- handing out --------------------------------------------------------------------------------- */

static void ready_push(StreamReader *sr, StreamEntry *e) {
        e->ready_next = NULL;
        if (sr->ready_tail)
                sr->ready_tail->ready_next = e;
        else
                sr->ready_head = e;
        sr->ready_tail = e;
        (void) sd_event_source_set_enabled(sr->dispatch, SD_EVENT_ONESHOT);
}

static int on_dispatch(sd_event_source *s, void *userdata) {
        StreamReader *sr = userdata;

        while (sr->ready_head) {
                StreamEntry *e = sr->ready_head;
                sr->ready_head = e->ready_next;
                if (!sr->ready_head)
                        sr->ready_tail = NULL;
                sr->handle(sr, e, sr->userdata);
        }
        return 0;
}

static void release(StreamReader *sr, StreamEntry *e) {
        held_remove(sr, e);
        sr->free_entry(e);
}

static void send_simple(StreamReader *sr, int argc, const char **argv) {
        (void) redis_command_argv(sr->redis, NULL, NULL, argc, argv, NULL);
}

static void acknowledge(StreamReader *sr, unsigned stream, const char *id) {
        const Stream *st = &sr->streams[stream];
        const char *ack[] = { "XACK", st->name, sr->group, id }, *del[] = { "XDEL", st->name, id };

        send_simple(sr, ELEMENTSOF(ack), ack);
        if (st->erase)
                send_simple(sr, ELEMENTSOF(del), del);
}

static void dead_letter(StreamReader *sr, unsigned stream, const char *id) {
        const Stream *st = &sr->streams[stream];
        const char *argv[] = { "2", st->name, st->dead, sr->group, id, st->erase ? "1" : "0" };

        log_debug("Entry %s of %s cannot be handled; moved to %s.", id, st->name, st->dead);
        (void) redis_script_eval(sr->redis, &dead_script, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
}

static void note_acked(StreamReader *sr) {
        if (sr->acked)
                return;
        sr->acked = true;
        /* Trimming sooner than the retention lets anything go would be wasted. */
        (void) sd_event_source_set_time_relative(sr->trim_timer, MIN(MAX(sr->retention_usec / 2, 100 * USEC_PER_MSEC),
                                                                   TRIM_DELAY_MAX_USEC));
        (void) sd_event_source_set_enabled(sr->trim_timer, SD_EVENT_ONESHOT);
}

/* Asks for a pass over our pending entries: now, or after the retry pause. */
static void scan_request(StreamReader *sr, bool after_pause) {
        sr->scan = true;
        if (after_pause) {
                int enabled = SD_EVENT_OFF;
                (void) sd_event_source_get_enabled(sr->retry_timer, &enabled);
                if (enabled == SD_EVENT_OFF) {
                        (void) sd_event_source_set_time_relative(sr->retry_timer, sr->retry_usec);
                        (void) sd_event_source_set_enabled(sr->retry_timer, SD_EVENT_ONESHOT);
                }
                sr->scan_wait = true;
                return;
        }
        if (sr->scan_wait)
                return;   /* the timer starts it */
        for (unsigned i = 0; i < sr->n_streams; i++)
                strcpy(sr->streams[i].cursor, "0");
        sr->scan_stale = sr->scanning;
        sr->scan_again = false;
        pump(sr);
}

void stream_reader_done(StreamReader *sr, StreamEntry *e, StreamOutcome outcome) {
        ChatQueue *q = e->queue;
        ChatItem *next;

        switch (outcome) {
        case STREAM_ACK:
                acknowledge(sr, e->stream, e->id);
                note_acked(sr);
                break;
        case STREAM_ACKED:
                note_acked(sr);
                break;
        case STREAM_DEAD:
                dead_letter(sr, e->stream, e->id);
                note_acked(sr);
                break;
        case STREAM_RETRY:
                scan_request(sr, true);
                break;
        }
        next = q ? chatmap_pop(&sr->keys, q) : NULL;
        release(sr, e);
        if (outcome == STREAM_RETRY)
                /* The later entries of the key wait for it: the pass brings them all again, in order. */
                while (next) {
                        StreamEntry *later = container_of(next, StreamEntry, item);
                        next = chatmap_pop(&sr->keys, q);
                        release(sr, later);
                }
        if (next) {
                q->busy = true;
                ready_push(sr, container_of(next, StreamEntry, item));
        }
        pump(sr);
}

/* Takes one entry of a read: [id, fields]. */
static void take(StreamReader *sr, unsigned stream, const redisReply *entry) {
        const redisReply *fields;
        StreamEntry *e = NULL;
        const char *id;
        bool first;
        int r;

        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING ||
            entry->element[0]->len >= STREAM_ID_MAX)
                return;
        id = entry->element[0]->str;
        if (held_has(sr, stream, id))
                return;   /* being handled, or waiting for its turn */
        fields = entry->element[1]->type == REDIS_REPLY_ARRAY ? entry->element[1] : NULL;
        r = sr->take(sr, stream, id, fields, sr->userdata, &e);
        if (r == STREAM_ACK || r == STREAM_ACKED) {
                if (r == STREAM_ACK)
                        acknowledge(sr, stream, id);
                return note_acked(sr);
        }
        if (r == STREAM_DEAD) {
                dead_letter(sr, stream, id);
                return note_acked(sr);
        }
        if (r != 0) {
                scan_request(sr, true);   /* pending for us: the next pass takes it */
                return;
        }
        e->stream = stream;
        snprintf(e->id, sizeof e->id, "%s", id);
        e->queue = NULL;
        held_add(sr, e);
        if (!sr->ordered)
                return ready_push(sr, e);
        e->queue = chatmap_push(&sr->keys, e->key, &e->item, &first);
        if (!e->queue) {
                release(sr, e);
                scan_request(sr, true);
                return;
        }
        if (first) {
                e->queue->busy = true;
                ready_push(sr, e);
        }
}

static int stream_index(const StreamReader *sr, const redisReply *name) {
        for (unsigned i = 0; name->type == REDIS_REPLY_STRING && i < sr->n_streams; i++)
                if (streq(name->str, sr->streams[i].name))
                        return (int) i;
        return -1;
}

/* Walks a read's reply, [[stream, [entry…]]…]: takes each entry when @take_them, records each
 * stream's last one as its pass cursor when @keep_cursor. Returns the entries seen. */
static size_t walk_read(StreamReader *sr, const redisReply *reply, bool take_them, bool keep_cursor) {
        size_t n = 0;

        for (size_t s = 0; reply->type == REDIS_REPLY_ARRAY && s < reply->elements; s++) {
                const redisReply *st = reply->element[s], *entries;
                int i;
                if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 || (i = stream_index(sr, st->element[0])) < 0 ||
                    st->element[1]->type != REDIS_REPLY_ARRAY)
                        continue;
                entries = st->element[1];
                for (size_t k = 0; k < entries->elements; k++) {
                        const redisReply *en = entries->element[k];
                        if (keep_cursor && en->type == REDIS_REPLY_ARRAY && en->elements >= 1 &&
                            en->element[0]->type == REDIS_REPLY_STRING && en->element[0]->len < STREAM_ID_MAX)
                                strcpy(sr->streams[i].cursor, en->element[0]->str);
                        if (take_them)
                                take(sr, (unsigned) i, en);
                        n++;
                }
        }
        return n;
}

static bool failed(StreamReader *sr, const redisReply *reply, const char *what) {
        int r = redis_reply_errno(reply);

        if (r == 0)
                return false;
        if (reply && sr->failed_cb)
                sr->failed_cb(sr, what, sr->streams[0].name, redis_reply_message(reply), sr->userdata);
        if (r == -ENOENT)
                sr->group_ready = false;   /* the stream or group went away: the tick makes them again */
        return true;
}

static void on_scan(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;
        bool stale = sr->scan_stale;

        sr->scanning = sr->scan_stale = false;
        if (failed(sr, reply, "Reading the pending entries of")) {
                if (reply)
                        scan_request(sr, true);
                else
                        sr->scan_lost = true;
                return;
        }
        if (walk_read(sr, reply, true, !stale) == 0 && !stale && !sr->scan_wait) {
                /* The pass is over. */
                if (sr->scan_again)
                        scan_request(sr, false);
                else
                        sr->scan = false;
        }
        pump(sr);
}

static void on_block(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;

        sr->blocking = false;
        if (failed(sr, reply, "Reading")) {
                /* What the lost reply held is pending for us. */
                if (reply)
                        scan_request(sr, true);
                else
                        sr->scan = sr->scan_lost = true;
                return;
        }
        if (sr->scan) {
                /* A pass began meanwhile: it takes these, in their place. Should it have ended
                 * before they became pending, another finds them. */
                if (walk_read(sr, reply, false, false) > 0)
                        sr->scan_again = true;
        } else
                (void) walk_read(sr, reply, true, false);
        pump(sr);
}

static void pump(StreamReader *sr) {
        char count[16];
        int r;

        if (!sr->group_ready || sr->held >= sr->max_held)
                return;
        snprintf(count, sizeof count, "%u", MIN(sr->max_held - sr->held, READ_COUNT));
        if (sr->scan) {
                const char *argv[7 + 2 * STREAM_READER_STREAMS_MAX] = {
                        "XREADGROUP", "GROUP", sr->group, sr->consumer, "COUNT", count, "STREAMS"
                };
                if (sr->scan_wait || sr->scanning)
                        return;
                for (unsigned i = 0; i < sr->n_streams; i++) {
                        argv[7 + i] = sr->streams[i].name;
                        argv[7 + sr->n_streams + i] = sr->streams[i].cursor;
                }
                r = redis_command_argv(sr->redis, on_scan, sr, 7 + 2 * (int) sr->n_streams, argv, NULL);
                sr->scanning = r >= 0;
                return;
        }
        if (!sr->blocking) {
                const char *argv[9 + 2 * STREAM_READER_STREAMS_MAX] = {
                        "XREADGROUP", "GROUP", sr->group, sr->consumer, "COUNT", count, "BLOCK", sr->block_msec, "STREAMS"
                };
                for (unsigned i = 0; i < sr->n_streams; i++) {
                        argv[9 + i] = sr->streams[i].name;
                        argv[9 + sr->n_streams + i] = ">";
                }
                r = redis_command_argv(sr->redis_block, on_block, sr, 9 + 2 * (int) sr->n_streams, argv, NULL);
                sr->blocking = r >= 0;
        }
}

/* --- the group, the timers ----------------------------------------------------------------------- */

static void on_group(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;

        int k = redis_reply_errno(reply);

        if (k < 0 && k != -EEXIST) {
                if (reply && sr->failed_cb)
                        sr->failed_cb(sr, "XGROUP CREATE", sr->streams[0].name, redis_reply_message(reply), sr->userdata);
                sr->group_failed = true;
        }
        if (--sr->group_answers > 0 || sr->group_failed)
                return;   /* more to come, or the tick tries again */
        sr->group_ready = true;
        sr->scan = true;
        sr->scan_wait = false;
        scan_request(sr, false);
}

static void create_groups(StreamReader *sr) {
        sr->group_failed = false;
        for (unsigned i = 0; i < sr->n_streams; i++) {
                /* From the stream's beginning: entries added before the first start count too. */
                const char *argv[] = { "XGROUP", "CREATE", sr->streams[i].name, sr->group, "0", "MKSTREAM" };
                if (redis_command_argv(sr->redis, on_group, sr, ELEMENTSOF(argv), argv, NULL) < 0) {
                        sr->group_failed = true;   /* not connected: the next tick tries again */
                        return;
                }
                sr->group_answers++;
        }
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;

        if (!sr->group_ready) {
                if (sr->group_answers == 0 && redis_is_up(sr->redis))
                        create_groups(sr);
        } else if (sr->scan_lost && redis_is_up(sr->redis) && redis_is_up(sr->redis_block)) {
                sr->scan_lost = false;
                scan_request(sr, false);
        } else
                pump(sr);
        return sd_event_source_set_time(s, usec + TICK_USEC);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;

        sr->scan_wait = false;
        scan_request(sr, false);
        return 0;
}

static void claim_next(StreamReader *sr);

static void on_claimed(Redis *r, redisReply *reply, void *userdata) {
        StreamReader *sr = userdata;
        Stream *st = &sr->streams[sr->claim_stream];
        const redisReply *entries;

        sr->claiming = false;
        /* [next cursor, [entry…], (Redis 7) [ids of deleted entries…]] */
        if (failed(sr, reply, "Claiming idle entries of") || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_ARRAY)
                return;
        entries = reply->element[1];
        for (size_t i = 0; i < entries->elements; i++)
                take(sr, sr->claim_stream, entries->element[i]);
        snprintf(st->claim_cursor, sizeof st->claim_cursor, "%s", reply->element[0]->str);
        if (streq(st->claim_cursor, "0-0")) {
                /* This stream's pending list is walked; the next stream's waits for the next round. */
                sr->claim_stream = (sr->claim_stream + 1) % sr->n_streams;
                return;
        }
        claim_next(sr);
}

static void claim_next(StreamReader *sr) {
        Stream *st = &sr->streams[sr->claim_stream];
        char idle[24], count[16];
        const char *argv[] = { "XAUTOCLAIM", st->name, sr->group, sr->consumer, idle, st->claim_cursor, "COUNT", count };

        if (sr->claiming || !sr->group_ready || sr->held >= sr->max_held)
                return;
        snprintf(idle, sizeof idle, "%" PRIu64, sr->claim_idle_usec / USEC_PER_MSEC);
        snprintf(count, sizeof count, "%u", MIN(sr->max_held - sr->held, READ_COUNT));
        sr->claiming = redis_command_argv(sr->redis, on_claimed, sr, ELEMENTSOF(argv), argv, NULL) >= 0;
}

static int on_claim(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;

        claim_next(sr);
        return sd_event_source_set_time(s, usec + MAX(sr->claim_idle_usec / 2, USEC_PER_SEC));
}

static int on_trim(sd_event_source *s, uint64_t usec, void *userdata) {
        StreamReader *sr = userdata;
        char ms[24];

        sr->acked = false;
        snprintf(ms, sizeof ms, "%" PRIu64, sr->retention_usec / USEC_PER_MSEC);
        for (unsigned i = 0; i < sr->n_streams; i++) {
                const char *argv[] = { "1", sr->streams[i].name, ms };
                (void) redis_script_eval(sr->redis, &trim_script, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
        }
        return 0;
}

/* --- life ---------------------------------------------------------------------------------------- */

static int add_timer(sd_event *e, sd_event_source **ret, uint64_t usec, sd_event_time_handler_t cb,
                     StreamReader *sr, int enabled) {
        int r = sd_event_add_time_relative(e, ret, CLOCK_MONOTONIC, usec, 0, cb, sr);

        return r < 0 ? r : sd_event_source_set_enabled(*ret, enabled);
}

int stream_reader_new(sd_event *e, Redis *redis, Redis *redis_block, const StreamReaderOptions *o,
                      StreamReader **ret) {
        StreamReader *sr;
        uint64_t block;
        int r;

        if (o->n_streams == 0 || o->n_streams > STREAM_READER_STREAMS_MAX || !o->take || !o->handle || !o->free_entry)
                return -EINVAL;
        sr = calloc(1, sizeof *sr);
        if (!sr)
                return -ENOMEM;
        *sr = (StreamReader) {
                .redis = redis, .redis_block = redis_block, .n_streams = o->n_streams, .ordered = o->ordered,
                .max_held = o->max_held ?: 256, .claim_idle_usec = o->claim_idle_usec,
                .retry_usec = o->retry_usec ?: 2 * USEC_PER_SEC, .retention_usec = o->retention_usec,
                .take = o->take, .handle = o->handle, .free_entry = o->free_entry, .failed_cb = o->failed,
                .userdata = o->userdata,
        };
        r = (sr->group = strdup(o->group)) && (sr->consumer = strdup(o->consumer)) ? 0 : -ENOMEM;
        for (unsigned i = 0; r >= 0 && i < o->n_streams; i++) {
                Stream *st = &sr->streams[i];
                st->erase = o->streams[i].erase;
                strcpy(st->claim_cursor, "0-0");
                if (!(st->name = strdup(o->streams[i].name)) || asprintf(&st->dead, "%s:dead", st->name) < 0) {
                        st->dead = NULL;
                        r = -ENOMEM;
                }
        }
        /* A blocked read must end well within the command timeout, which would drop it. */
        block = MAX(o->command_timeout_usec / 2 / USEC_PER_MSEC, (uint64_t) 100);
        snprintf(sr->block_msec, sizeof sr->block_msec, "%" PRIu64, MIN(block, (uint64_t) 2000));
        if (r >= 0 && sr->ordered)
                r = chatmap_init(&sr->keys, 4096);
        if (r >= 0)
                r = sd_event_add_defer(e, &sr->dispatch, on_dispatch, sr);
        if (r >= 0)
                r = sd_event_source_set_enabled(sr->dispatch, SD_EVENT_OFF);
        if (r >= 0)
                r = add_timer(e, &sr->tick, 0, on_tick, sr, SD_EVENT_ON);
        if (r >= 0)
                r = add_timer(e, &sr->retry_timer, sr->retry_usec, on_retry, sr, SD_EVENT_OFF);
        if (r >= 0)
                r = add_timer(e, &sr->trim_timer, TRIM_DELAY_MAX_USEC, on_trim, sr, SD_EVENT_OFF);
        if (r >= 0 && sr->claim_idle_usec > 0)
                r = add_timer(e, &sr->claim_timer, MAX(sr->claim_idle_usec / 2, USEC_PER_SEC), on_claim, sr,
                              SD_EVENT_ON);
        if (r < 0) {
                stream_reader_free(sr);
                return r;
        }
        *ret = sr;
        return 0;
}

StreamReader *stream_reader_free(StreamReader *sr) {
        if (!sr)
                return NULL;
        sd_event_source_disable_unref(sr->dispatch);
        sd_event_source_disable_unref(sr->tick);
        sd_event_source_disable_unref(sr->retry_timer);
        sd_event_source_disable_unref(sr->claim_timer);
        sd_event_source_disable_unref(sr->trim_timer);
        /* The lines first: they walk the entries, which go next. */
        chatmap_done(&sr->keys, NULL);
        for (unsigned i = 0; i < HELD_BUCKETS; i++)
                while (sr->held_buckets[i]) {
                        StreamEntry *e = sr->held_buckets[i];
                        sr->held_buckets[i] = e->held_next;
                        sr->free_entry(e);
                }
        for (unsigned i = 0; i < sr->n_streams; i++) {
                free(sr->streams[i].name);
                free(sr->streams[i].dead);
        }
        free(sr->group);
        free(sr->consumer);
        free(sr);
        return NULL;
}
