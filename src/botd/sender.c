/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "chatmap.h"
#include "json-util.h"
#include "log.h"
#include "redis-script.h"
#include "sender.h"

#define GROUP "sender"
#define READ_COUNT "100"
#define IN_FLIGHT_MAX 64
#define QUEUED_MAX 5000
#define BACKOFF_MAX_USEC (30 * USEC_PER_SEC)
#define CHAT_BURST "3"   /* messages a private chat may get at once, as Telegram tolerates */
#define ACQUIRE_MAX 64   /* calls asked for in one budget request */

/* Token buckets in Redis, refilled by elapsed time, asked for a batch of calls at once. KEYS: bot
 * bucket, bot pause, then each call's chat bucket. ARGV: bot rate/s, bot capacity, then for each
 * call its chat's rate/s and capacity and whether it counts (1 for messages, 0 for calls only a
 * pause stops). A call may go when both the bot's and its chat's budgets allow; both are charged.
 * Returns a pair per call: {0, 0} it may go, {1, ms} the bot must wait, {2, ms} only the chat. */
static RedisScript flood_script = REDIS_SCRIPT(
        "local n = #KEYS - 2\n"
        "local out = {}\n"
        "local pause = redis.call('PTTL', KEYS[2])\n"
        "if pause > 0 then\n"
        "  for i = 1, n do out[2 * i - 1] = 1; out[2 * i] = pause end\n"
        "  return out\n"
        "end\n"
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local function level(key, rate, cap)\n"
        "  local v = redis.call('HMGET', key, 'tokens', 'at')\n"
        "  local tokens, at = tonumber(v[1]), tonumber(v[2])\n"
        "  if not tokens then return cap end\n"
        "  return math.min(cap, tokens + (now - at) * rate / 1000)\n"
        "end\n"
        "local br, bc = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
        "local b, spent = level(KEYS[1], br, bc), false\n"
        "for i = 1, n do\n"
        "  local verdict, wait = 0, 0\n"
        "  if ARGV[3 * i + 2] == '1' then\n"
        "    local cr, cc = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
        "    local c = level(KEYS[2 + i], cr, cc)\n"
        "    if b < 1 then verdict, wait = 1, math.ceil((1 - b) * 1000 / br)\n"
        "    elseif c < 1 then verdict, wait = 2, math.ceil((1 - c) * 1000 / cr)\n"
        "    else\n"
        "      b, spent = b - 1, true\n"
        "      redis.call('HSET', KEYS[2 + i], 'tokens', tostring(c - 1), 'at', now)\n"
        "      redis.call('PEXPIRE', KEYS[2 + i], 120000)\n"
        "    end\n"
        "  end\n"
        "  out[2 * i - 1], out[2 * i] = verdict, wait\n"
        "end\n"
        "if spent then\n"
        "  redis.call('HSET', KEYS[1], 'tokens', tostring(b), 'at', now)\n"
        "  redis.call('PEXPIRE', KEYS[1], 60000)\n"
        "end\n"
        "return out\n");

typedef struct Call {
        ChatItem item;
        Sender *s;
        ChatQueue *q;
        char id[48];
        char method[48];
        int64_t chat;
        char *params;          /* JSON body for the Bot API */
        unsigned attempts;
} Call;

struct Sender {
        sd_event *event;
        Redis *redis, *redis_block;
        HttpClient *http;
        char *bot, *consumer, *base_url, *stream;
        char bot_bucket[96], pause_key[96];
        char rate[16], cap[16], chat_rate[16], group_rate[24], group_cap[16];
        char block_msec[24];
        ChatMap chats;
        ChatQueue *ready_head, *ready_tail;
        ChatQueue *acquiring[ACQUIRE_MAX];   /* whose budget request is under way: one at a time */
        unsigned n_acquiring;
        bool reading, backlog, group_ready;
        char cursor[48];
        unsigned in_flight;
        sd_event_source *gate;     /* the bot's budget is empty until this fires */
        sd_event_source *tick;
        SenderStats stats;
};

static void pump(Sender *s);
static void read_more(Sender *s);

int sender_stream(const char *bot, char *buf, size_t size) {
        int n = snprintf(buf, size, "out:%s", bot);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static void ready_push(Sender *s, ChatQueue *q, bool front) {
        if (q->in_ready)
                return;
        q->in_ready = true;
        q->ready_next = NULL;
        if (!s->ready_head)
                s->ready_head = s->ready_tail = q;
        else if (front) {
                q->ready_next = s->ready_head;
                s->ready_head = q;
        } else {
                s->ready_tail->ready_next = q;
                s->ready_tail = q;
        }
}

static ChatQueue *ready_pop(Sender *s) {
        ChatQueue *q = s->ready_head;

        if (q) {
                s->ready_head = q->ready_next;
                if (!s->ready_head)
                        s->ready_tail = NULL;
                q->in_ready = false;
        }
        return q;
}

static void call_free(Call *c) {
        free(c->params);
        free(c);
}

static void call_free_item(ChatItem *it) {
        call_free((Call *) it);
}

/* The head call of @q is finished (sent or given up): drop it from the outbox, start the next. */
static void call_finished(Call *c) {
        Sender *s = c->s;
        ChatQueue *q = c->q;
        const char *ack[] = { "XACK", s->stream, GROUP, c->id };
        const char *del[] = { "XDEL", s->stream, c->id };
        ChatItem *next;

        (void) redis_command_argv(s->redis, NULL, NULL, ELEMENTSOF(ack), ack, NULL);
        (void) redis_command_argv(s->redis, NULL, NULL, ELEMENTSOF(del), del, NULL);
        if (q->timer)
                q->timer = sd_event_source_disable_unref(q->timer);
        next = chatmap_pop(&s->chats, q);
        call_free(c);
        if (next)
                ready_push(s, q, false);
        pump(s);
        read_more(s);
}

static int on_chat_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        ChatQueue *q = userdata;
        Call *c = (Call *) q->head;

        q->timer = sd_event_source_disable_unref(q->timer);
        ready_push(c->s, q, true);
        pump(c->s);
        return 0;
}

/* Parks @q for @usec (a chat budget, a backoff), then puts it back in line. */
static void park(Sender *s, ChatQueue *q, uint64_t usec) {
        sd_event_source *src = NULL;

        if (sd_event_add_time_relative(s->event, &src, CLOCK_MONOTONIC, usec, 10 * USEC_PER_MSEC, on_chat_timer, q) < 0) {
                ready_push(s, q, false);
                return;
        }
        q->timer = src;
}

static void on_sent(HttpClient *h, const HttpResponse *r, void *userdata) {
        Call *c = userdata;
        Sender *s = c->s;
        _cleanup_(json_object_putp) json_object *answer = NULL;
        int64_t retry_after = 0;
        json_object *params;
        uint64_t backoff;

        s->in_flight--;
        if (r->error == -ECANCELED)
                return;   /* shutting down: the call stays in the outbox */
        if (r->error == 0 && r->status == 200) {
                s->stats.sent++;
                return call_finished(c);
        }
        if (r->error == 0)
                (void) json_parse(r->body, r->size, &answer);
        if (r->error == 0 && r->status == 429) {
                if (json_object_object_get_ex(answer, "parameters", &params))
                        (void) json_get_int64(params, "retry_after", &retry_after);
                retry_after = MAX(retry_after, (int64_t) 1);
                char ms[24];
                snprintf(ms, sizeof ms, "%" PRId64, retry_after * 1000);
                const char *argv[] = { "SET", s->pause_key, "1", "PX", ms };
                (void) redis_command_argv(s->redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
                log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_FLOOD_WAIT, .bot = s->bot),
                           "Telegram asks bot %s to wait %" PRId64 " s; pausing it everywhere.", s->bot, retry_after);
                s->stats.throttled++;
                park(s, c->q, (uint64_t) retry_after * USEC_PER_SEC);
                return pump(s);
        }
        if (r->error < 0 || r->status >= 500) {
                /* Telegram or the network: retry, backing off, never dropping. */
                s->stats.retried++;
                backoff = MIN((uint64_t) 500 * USEC_PER_MSEC << MIN(c->attempts, 10u), (uint64_t) BACKOFF_MAX_USEC);
                c->attempts++;
                if (c->attempts == 5)
                        log_struct(LOG_WARNING, r->error, LOG_FIELDS(.bot = s->bot),
                                   "%s for bot %s keeps failing (HTTP %ld); still retrying.", c->method, s->bot,
                                   r->status);
                park(s, c->q, backoff);
                return pump(s);
        }
        /* Refused for good (blocked by the user, message gone, …): logged, not retried. */
        s->stats.failed++;
        log_struct(LOG_NOTICE, 0, LOG_FIELDS(.bot = s->bot), "Telegram refused %s for bot %s: %ld %s", c->method,
                   s->bot, r->status, strempty(json_get_string(answer, "description")));
        call_finished(c);
}

static void send_call(Sender *s, Call *c) {
        static const char *const headers[] = { "Content-Type: application/json", NULL };
        _cleanup_free_ char *url = NULL;
        HttpRequest req;

        if (asprintf(&url, "%s/%s", s->base_url, c->method) < 0) {
                park(s, c->q, USEC_PER_SEC);
                return;
        }
        req = (HttpRequest) { .method = "POST", .url = url, .headers = headers, .body = c->params,
                              .body_size = strlen(c->params), .timeout_usec = 30 * USEC_PER_SEC };
        if (http_client_request(s->http, &req, on_sent, c) < 0) {
                park(s, c->q, USEC_PER_SEC);
                return;
        }
        s->in_flight++;
}

static int on_gate(sd_event_source *src, uint64_t usec, void *userdata) {
        Sender *s = userdata;

        s->gate = sd_event_source_disable_unref(s->gate);
        pump(s);
        return 0;
}

static void on_budget(Redis *r, redisReply *reply, void *userdata) {
        Sender *s = userdata;
        unsigned n = s->n_acquiring;
        long long verdict[ACQUIRE_MAX], wait[ACQUIRE_MAX], bot_wait = 0;
        bool ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 * n;

        s->n_acquiring = 0;
        for (unsigned i = 0; ok && i < 2 * n; i++)
                ok = reply->element[i]->type == REDIS_REPLY_INTEGER;
        for (unsigned i = 0; i < n; i++) {
                ChatQueue *q = s->acquiring[i];
                verdict[i] = ok ? reply->element[2 * i]->integer : -1;
                wait[i] = ok ? MAX(reply->element[2 * i + 1]->integer, 1LL) : 0;
                if (verdict[i] == 0)
                        send_call(s, (Call *) q->head);
                else if (verdict[i] == 1)
                        bot_wait = MAX(bot_wait, wait[i]);
                else if (verdict[i] == 2)
                        park(s, q, (uint64_t) wait[i] * USEC_PER_MSEC);
                else
                        park(s, q, USEC_PER_SEC);   /* Redis trouble: try again shortly */
        }
        /* The bot's budget: back to the front of the line, in order, and nobody in this process
         * asks again until it refills. */
        for (unsigned i = n; i-- > 0;)
                if (verdict[i] == 1)
                        ready_push(s, s->acquiring[i], true);
        if (bot_wait > 0 && !s->gate)
                (void) sd_event_add_time_relative(s->event, &s->gate, CLOCK_MONOTONIC,
                                                  (uint64_t) bot_wait * USEC_PER_MSEC, USEC_PER_MSEC, on_gate, s);
        pump(s);
}

/* Asks the shared budget for the calls at the head of the ready line, up to ACQUIRE_MAX in one
 * request. One request at a time keeps a burst from turning into a storm of refusals. */
static void pump(Sender *s) {
        char keys[ACQUIRE_MAX][128], numkeys[16];
        const char *argv[3 + ACQUIRE_MAX + 2 + 3 * ACQUIRE_MAX];
        unsigned n = 0;
        int argc = 0;

        if (s->n_acquiring > 0 || s->gate)
                return;
        while (s->ready_head && n < ACQUIRE_MAX && s->in_flight + n < IN_FLIGHT_MAX)
                s->acquiring[n++] = ready_pop(s);
        if (n == 0)
                return;
        snprintf(numkeys, sizeof numkeys, "%u", n + 2);
        argv[argc++] = numkeys;
        argv[argc++] = s->bot_bucket;
        argv[argc++] = s->pause_key;
        for (unsigned i = 0; i < n; i++) {
                snprintf(keys[i], sizeof keys[i], "flood:%s:chat:%" PRId64, s->bot, ((Call *) s->acquiring[i]->head)->chat);
                argv[argc++] = keys[i];
        }
        argv[argc++] = s->rate;
        argv[argc++] = s->cap;
        for (unsigned i = 0; i < n; i++) {
                const Call *c = (Call *) s->acquiring[i]->head;
                bool group = c->chat < 0;
                argv[argc++] = group ? s->group_rate : s->chat_rate;
                argv[argc++] = group ? s->group_cap : CHAT_BURST;
                argv[argc++] = streq(c->method, "sendMessage") ? "1" : "0";
        }
        if (redis_script_eval(s->redis, &flood_script, on_budget, s, argc, argv, NULL) >= 0) {
                s->n_acquiring = n;
                return;
        }
        /* Redis is down: the tick tries again. */
        while (n-- > 0)
                ready_push(s, s->acquiring[n], true);
}

static void enqueue(Sender *s, redisReply *entry) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *raw, *method;
        json_object *params;
        int64_t chat = 0;
        bool first;
        Call *c;

        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING)
                return;
        raw = redis_stream_field(entry->element[1], "call");
        c = calloc(1, sizeof *c);
        if (!c)
                return;
        c->s = s;
        snprintf(c->id, sizeof c->id, "%s", entry->element[0]->str);
        if (!raw || json_parse(raw, strlen(raw), &o) < 0 || !(method = json_get_string(o, "method")) ||
            !json_object_object_get_ex(o, "params", &params) || json_get_int64(o, "chat", &chat) < 0) {
                log_warning("Outbox entry %s of bot %s is malformed; dropped.", c->id, s->bot);
                const char *ack[] = { "XACK", s->stream, GROUP, c->id };
                (void) redis_command_argv(s->redis, NULL, NULL, ELEMENTSOF(ack), ack, NULL);
                return call_free(c);
        }
        snprintf(c->method, sizeof c->method, "%s", method);
        c->chat = chat;
        c->params = strdup(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
        if (!c->params)
                return call_free(c);
        c->q = chatmap_push(&s->chats, chat, &c->item, &first);
        if (!c->q)
                return call_free(c);
        if (first) {
                c->q->busy = true;
                ready_push(s, c->q, false);
        }
}

static void on_read(Redis *r, redisReply *reply, void *userdata) {
        Sender *s = userdata;
        redisReply *entries = NULL;

        s->reading = false;
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                if (reply)
                        s->group_ready = false;
                return;   /* the tick brings us back */
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->elements == 2)
                entries = reply->element[0]->element[1];
        if (s->backlog) {
                if (!entries || entries->elements == 0)
                        s->backlog = false;
                else
                        snprintf(s->cursor, sizeof s->cursor, "%s",
                                 entries->element[entries->elements - 1]->element[0]->str);
        }
        for (size_t i = 0; entries && i < entries->elements; i++)
                enqueue(s, entries->element[i]);
        pump(s);
        read_more(s);
}

static void read_more(Sender *s) {
        int r;

        if (s->reading || !s->group_ready || s->chats.n_items >= QUEUED_MAX)
                return;
        if (s->backlog) {
                const char *argv[] = { "XREADGROUP", "GROUP", GROUP, s->consumer, "COUNT", READ_COUNT,
                                       "STREAMS", s->stream, s->cursor };
                r = redis_command_argv(s->redis, on_read, s, ELEMENTSOF(argv), argv, NULL);
        } else {
                const char *argv[] = { "XREADGROUP", "GROUP", GROUP, s->consumer, "COUNT", READ_COUNT,
                                       "BLOCK", s->block_msec, "STREAMS", s->stream, ">" };
                r = redis_command_argv(s->redis_block, on_read, s, ELEMENTSOF(argv), argv, NULL);
        }
        s->reading = r >= 0;
}

static void on_group(Redis *r, redisReply *reply, void *userdata) {
        Sender *s = userdata;

        if (!reply || (reply->type == REDIS_REPLY_ERROR && !startswith(reply->str, "BUSYGROUP")))
                return;
        s->group_ready = true;
        s->backlog = true;
        snprintf(s->cursor, sizeof s->cursor, "0");
        read_more(s);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata) {
        Sender *s = userdata;
        const char *argv[] = { "XGROUP", "CREATE", s->stream, GROUP, "0", "MKSTREAM" };

        if (!s->group_ready)
                (void) redis_command_argv(s->redis, on_group, s, ELEMENTSOF(argv), argv, NULL);
        else
                read_more(s);
        pump(s);
        (void) sd_event_source_set_time(src, usec + USEC_PER_SEC);
        return 0;
}

int sender_new(sd_event *e, Redis *redis, Redis *redis_block, HttpClient *http, const SenderOptions *o,
               Sender **ret) {
        Sender *s = calloc(1, sizeof *s);
        char stream[96];
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->redis = redis;
        s->redis_block = redis_block;
        s->http = http;
        r = sender_stream(o->bot, stream, sizeof stream);
        if (r >= 0)
                r = chatmap_init(&s->chats, 4096);
        if (r < 0 || !(s->bot = strdup(o->bot)) || !(s->consumer = strdup(o->consumer)) ||
            !(s->stream = strdup(stream)) ||
            asprintf(&s->base_url, "%s/bot%s", o->telegram_url, o->token->data) < 0) {
                s->base_url = NULL;
                sender_free(s);
                return r < 0 ? r : -ENOMEM;
        }
        snprintf(s->bot_bucket, sizeof s->bot_bucket, "flood:%s:bot", o->bot);
        snprintf(s->pause_key, sizeof s->pause_key, "flood:%s:pause", o->bot);
        snprintf(s->rate, sizeof s->rate, "%u", MAX(o->per_second, 1u));
        snprintf(s->cap, sizeof s->cap, "%u", MAX(o->per_second, 1u));
        snprintf(s->chat_rate, sizeof s->chat_rate, "%u", MAX(o->chat_per_second, 1u));
        snprintf(s->group_rate, sizeof s->group_rate, "%.4f", MAX(o->group_per_minute, 1u) / 60.0);
        snprintf(s->group_cap, sizeof s->group_cap, "%u", MAX(o->group_per_minute, 1u));
        snprintf(s->block_msec, sizeof s->block_msec, "%" PRIu64, MAX(o->block_usec / USEC_PER_MSEC, (uint64_t) 100));
        r = sd_event_add_time_relative(e, &s->tick, CLOCK_MONOTONIC, 0, 0, on_tick, s);
        if (r < 0) {
                sender_free(s);
                return r;
        }
        (void) sd_event_source_set_enabled(s->tick, SD_EVENT_ON);
        *ret = s;
        return 0;
}

SenderStats sender_stats(const Sender *s) {
        return s ? s->stats : (SenderStats) {};
}

static void free_queue_timers(Sender *s) {
        for (unsigned i = 0; s->chats.buckets && i < s->chats.n_buckets; i++)
                for (ChatQueue *q = s->chats.buckets[i]; q; q = q->bucket_next)
                        q->timer = sd_event_source_disable_unref(q->timer);
}

Sender *sender_free(Sender *s) {
        if (!s)
                return NULL;
        free_queue_timers(s);
        chatmap_done(&s->chats, call_free_item);
        sd_event_source_disable_unref(s->tick);
        sd_event_source_disable_unref(s->gate);
        sd_event_unref(s->event);
        if (s->base_url)
                explicit_bzero(s->base_url, strlen(s->base_url));
        free(s->base_url);
        free(s->bot);
        free(s->consumer);
        free(s->stream);
        free(s);
        return NULL;
}
