/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "bot-api.h"
#include "daemon.h"
#include "json-util.h"
#include "log-fields.h"
#include "redis-keys.h"
#include "redis-script.h"
#include "sender.h"
#include "stream-reader.h"

#define IN_FLIGHT_MAX 128   /* calls at Telegram at once */
#define HELD_MAX 5000
#define BACKOFF_MAX_USEC (30 * USEC_PER_SEC)
#define CHAT_BURST 3u    /* messages a private chat may get at once, as Telegram tolerates */
/* Our buckets stay under Telegram's. A call leaves when ours allows and reaches Telegram after a
 * delay of its own, so calls paced evenly here may arrive closer together, and a call delayed
 * less than the one before finds Telegram's bucket short: a 429. Ours refill 5 % slower and hold
 * less, by as many calls as arrive in JITTER_USEC at our rate, so that delays that differ by up
 * to JITTER_USEC never cost a 429: the bot's burst is 22 of Telegram's 30, a chat's 2 of 3, a
 * group's 19 of 20. The cost is small: only the start of a burst waits, and never longer than
 * JITTER_USEC for the bot. */
#define RATE_MARGIN 0.95
#define JITTER_USEC (250 * USEC_PER_MSEC)
#define ACQUIRE_MAX 64   /* calls asked for in one budget request */
#define REQUESTS_MAX 4   /* budget requests under way at once, while the bot's budget lasts */

#define GRANT_FRESH_USEC (100 * USEC_PER_MSEC)   /* a grant older than this is asked for again */

/* The budget asked for a batch of calls. KEYS: bot bucket, bot pause, then each call's chat
 * bucket. ARGV: bot rate/s, bot capacity, then for each call its chat's rate/s and capacity and
 * whether it counts. Returns sender_grant()'s verdicts. */
static RedisScript flood_script = REDIS_SCRIPT(
        SENDER_GRANT_LUA
        "local calls = {}\n"
        "for i = 1, #KEYS - 2 do\n"
        "  calls[i] = { KEYS[2 + i], tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), ARGV[3 * i + 2] == '1' }\n"
        "end\n"
        "return sender_grant(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), calls)\n");

typedef struct Call Call;

/* A FIFO of calls, linked through ready_next. */
typedef struct CallLine {
        Call *head, *tail;
} CallLine;

/* One budget request under way, for the calls it names. */
typedef struct BudgetRequest {
        Sender *s;
        Call *calls[ACQUIRE_MAX];
        unsigned n;              /* 0: the slot is free */
} BudgetRequest;

typedef struct Call {
        StreamEntry entry;     /* on "out:<bot>"; its key is the chat */
        Sender *s;
        OutboxCall call;
        unsigned attempts;
        sd_event_source *timer;   /* parked until it fires */
        struct Call *ready_next;
} Call;

struct Sender {
        sd_event *event;
        Redis *redis;
        HttpClient *http;
        StreamReader *reader;
        char *bot, *telegram_url;
        Secret *token;
        RedisName bot_bucket, pause_key;
        char rate[32], cap[16], chat_rate[32], chat_cap[16], group_rate[32], group_cap[16];
        CallLine ready;                      /* calls whose turn it is, waiting for the budget */
        CallLine refused;                    /* found the bot's budget empty, in line order */
        BudgetRequest requests[REQUESTS_MAX];
        unsigned n_requests, n_acquiring;    /* requests under way, and the calls they name */
        bool throttled;                      /* the last answer found the bot's budget empty */
        unsigned in_flight;
        sd_event_source *gate;     /* the bot's budget is empty until this fires */
        SenderStats stats;
};

static void pump(Sender *s);

static void line_push(CallLine *l, Call *c, bool front) {
        c->ready_next = NULL;
        if (!l->head)
                l->head = l->tail = c;
        else if (front) {
                c->ready_next = l->head;
                l->head = c;
        } else {
                l->tail->ready_next = c;
                l->tail = c;
        }
}

static Call *line_pop(CallLine *l) {
        Call *c = l->head;

        if (c) {
                l->head = c->ready_next;
                if (!l->head)
                        l->tail = NULL;
        }
        return c;
}

/* Moves all of @from, in its order, to the front of @to. */
static void line_splice_front(CallLine *to, CallLine *from) {
        if (!from->head)
                return;
        from->tail->ready_next = to->head;
        if (!to->head)
                to->tail = from->tail;
        to->head = from->head;
        *from = (CallLine) {};
}

static void call_free(StreamEntry *e) {
        Call *c = container_of(e, Call, entry);

        sd_event_source_disable_unref(c->timer);
        outbox_call_done(&c->call);
        free(c);
}

/* The call is finished (sent or given up): it leaves the outbox, and its chat's next one comes. */
static void call_finished(Call *c) {
        Sender *s = c->s;

        stream_reader_done(s->reader, &c->entry, STREAM_ACK);
        pump(s);
}

static int on_call_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Call *c = userdata;

        c->timer = sd_event_source_disable_unref(c->timer);
        line_push(&c->s->ready, c, true);
        pump(c->s);
        return 0;
}

/* Parks @c for @usec (a chat budget, a backoff), then puts it back in line. */
static void park(Sender *s, Call *c, uint64_t usec) {
        if (sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, usec, 10 * USEC_PER_MSEC, on_call_timer,
                                       c) < 0)
                line_push(&s->ready, c, false);
}

static void on_answer(const BotApiResult *r, void *userdata) {
        Call *c = userdata;
        Sender *s = c->s;
        uint64_t backoff;

        s->in_flight--;
        if (r->error == -ECANCELED)
                return;   /* shutting down: the call stays in the outbox */
        if (r->error == 0) {
                s->stats.sent++;
                return call_finished(c);
        }
        if (r->error == -EAGAIN) {
                int64_t retry_after = MAX(r->retry_after, (int64_t) 1);
                char ms[24];
                snprintf(ms, sizeof ms, "%" PRId64, retry_after * 1000);
                const char *argv[] = { "SET", s->pause_key.s, "1", "PX", ms };
                (void) redis_command_argv(s->redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_FLOOD_WAIT), LOG_BOT(s->bot)),
                           "Telegram asks bot %s to wait %" PRId64 " s; pausing it everywhere.", s->bot, retry_after);
                s->stats.throttled++;
                park(s, c, (uint64_t) retry_after * USEC_PER_SEC);
                return pump(s);
        }
        if (r->error != -EACCES && r->error != -EINVAL) {
                /* Telegram or the network: retry, backing off, never dropping. */
                s->stats.retried++;
                backoff = MIN((uint64_t) 500 * USEC_PER_MSEC << MIN(c->attempts, 10u), (uint64_t) BACKOFF_MAX_USEC);
                c->attempts++;
                if (c->attempts == 5 && r->error == -EIO)
                        log_struct(LOG_WARNING, r->error, LOG_FIELDS(LOG_BOT(s->bot)),
                                   "%s for bot %s keeps failing: %s answers with an error (5xx); still retrying.",
                                   c->call.method, s->bot, s->telegram_url);
                else if (c->attempts == 5)
                        log_struct(LOG_WARNING, r->error, LOG_FIELDS(LOG_BOT(s->bot)),
                                   "%s for bot %s keeps failing: %s cannot be reached: %m; still retrying.",
                                   c->call.method, s->bot, s->telegram_url);
                park(s, c, backoff);
                return pump(s);
        }
        /* Refused for good (blocked by the user, message gone, …): logged, not retried. */
        s->stats.failed++;
        log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_BOT(s->bot)), "Telegram refused %s for bot %s: %s", c->call.method,
                   s->bot, r->description ?: r->error == -EACCES ? "the token is not valid" : "no reason given");
        call_finished(c);
}

static void send_call(Sender *s, Call *c) {
        if (bot_api_call_json(s->http, s->telegram_url, s->token->data, c->call.method, c->call.params, on_answer, c) < 0) {
                park(s, c, USEC_PER_SEC);
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
        BudgetRequest *q = userdata;
        Sender *s = q->s;
        unsigned n = q->n;
        long long bot_wait = 0;
        bool ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 * n;

        for (unsigned i = 0; ok && i < 2 * n; i++)
                ok = reply->element[i]->type == REDIS_REPLY_INTEGER;
        q->n = 0;
        s->n_requests--;
        s->n_acquiring -= n;
        s->throttled = false;
        for (unsigned i = 0; i < n; i++) {
                Call *c = q->calls[i];
                long long verdict = ok ? reply->element[2 * i]->integer : -1;
                long long wait = ok ? MAX(reply->element[2 * i + 1]->integer, 1LL) : 0;

                if (verdict == 0)
                        send_call(s, c);
                else if (verdict == 1) {
                        /* The bot's budget: in line again, in order, ahead of the calls that
                         * came after it; nobody in this process asks again until it refills. */
                        line_push(&s->refused, c, false);
                        bot_wait = MAX(bot_wait, wait);
                        s->throttled = true;
                } else if (verdict == 2)
                        park(s, c, (uint64_t) wait * USEC_PER_MSEC);
                else
                        park(s, c, USEC_PER_SEC);   /* Redis trouble: try again shortly */
        }
        if (bot_wait > 0 && !s->gate)
                (void) sd_event_add_time_relative(s->event, &s->gate, CLOCK_MONOTONIC,
                                                  (uint64_t) bot_wait * USEC_PER_MSEC, USEC_PER_MSEC, on_gate, s);
        pump(s);
}

/* Asks the shared budget for the calls at the head of the ready line: up to ACQUIRE_MAX in one
 * request, and while the bot's budget lasts up to REQUESTS_MAX requests at once, so that the
 * calls are not held up by one Redis round trip after another. Once a request found the budget
 * empty, one at a time again: a burst does not turn into a storm of refusals. */
static void pump(Sender *s) {
        char numkeys[16];
        const char *argv[3 + ACQUIRE_MAX + 2 + 3 * ACQUIRE_MAX];

        if (s->gate)
                return;
        /* The refused back at the front, in order, once every answer to the same budget is in. */
        if (s->refused.head && s->n_requests > 0)
                return;
        line_splice_front(&s->ready, &s->refused);
        while (s->ready.head && s->n_requests < (s->throttled ? 1u : REQUESTS_MAX) &&
               s->in_flight + s->n_acquiring < IN_FLIGHT_MAX) {
                BudgetRequest *q = NULL;
                unsigned n = 0;
                int argc = 0;

                for (unsigned i = 0; i < REQUESTS_MAX && !q; i++)
                        if (s->requests[i].n == 0)
                                q = &s->requests[i];
                assert(q);
                while (s->ready.head && n < ACQUIRE_MAX && s->in_flight + s->n_acquiring + n < IN_FLIGHT_MAX)
                        q->calls[n++] = line_pop(&s->ready);
                SenderBudget budget = sender_budget(s);
                SenderCallBudget calls[ACQUIRE_MAX];

                snprintf(numkeys, sizeof numkeys, "%u", n + 2);
                argv[argc++] = numkeys;
                argv[argc++] = budget.bucket;
                argv[argc++] = budget.pause;
                for (unsigned i = 0; i < n; i++) {
                        calls[i] = sender_call_budget(s, &q->calls[i]->call);
                        argv[argc++] = calls[i].key.s;
                }
                argv[argc++] = budget.rate;
                argv[argc++] = budget.cap;
                for (unsigned i = 0; i < n; i++) {
                        argv[argc++] = calls[i].rate;
                        argv[argc++] = calls[i].cap;
                        argv[argc++] = calls[i].counts;
                }
                if (redis_script_eval(s->redis, &flood_script, on_budget, q, argc, argv, NULL) < 0) {
                        /* Redis is down: try again shortly. */
                        while (n-- > 0)
                                park(s, q->calls[n], USEC_PER_SEC);
                        return;
                }
                q->s = s;
                q->n = n;
                s->n_requests++;
                s->n_acquiring += n;
        }
}

static int take(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields, void *userdata,
                StreamEntry **ret) {
        _cleanup_(outbox_call_done) OutboxCall oc = {};
        Sender *s = userdata;
        Call *c;
        int r;

        r = outbox_call_read(fields, &oc);
        if (r == -EBADMSG) {
                log_warning("Outbox entry %s of bot %s is malformed; dropped.", id, s->bot);
                return STREAM_ACK;
        }
        if (r < 0)
                return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->entry.key = oc.chat_id;
        c->call = oc;
        oc = (OutboxCall) {};
        *ret = &c->entry;
        return 0;
}

/* Its chat's turn: it goes at once when its budget came with it and was granted just now (one
 * granted earlier could leave bunched with later ones, closer than Telegram allows), else in line
 * for the budget. */
static void handle(StreamReader *sr, StreamEntry *e, void *userdata) {
        Sender *s = userdata;
        Call *c = container_of(e, Call, entry);

        if (outbox_grant_age(&c->call) <= GRANT_FRESH_USEC && s->in_flight < IN_FLIGHT_MAX) {
                s->stats.granted++;
                return send_call(s, c);
        }
        line_push(&s->ready, c, false);
        pump(s);
}

SenderBudget sender_budget(const Sender *s) {
        return (SenderBudget) { .bucket = s->bot_bucket.s, .pause = s->pause_key.s, .rate = s->rate, .cap = s->cap };
}

SenderCallBudget sender_call_budget(const Sender *s, const OutboxCall *call) {
        bool group = call->chat_id < 0;

        return (SenderCallBudget) {
                .key = redis_key_flood_chat(s->bot, call->chat_id),
                .rate = group ? s->group_rate : s->chat_rate,
                .cap = group ? s->group_cap : s->chat_cap,
                .counts = streq(call->method, "sendMessage") ? "1" : "0",
        };
}

/* Our bucket under Telegram's of @rate per second and @capacity (see RATE_MARGIN): as ARGV
 * strings into @rate_text and @cap_text (32 and 16 bytes). */
static void set_bucket(char rate_text[static 32], char cap_text[static 16], double rate, unsigned capacity) {
        double ours = rate * RATE_MARGIN, cap = capacity - ours * JITTER_USEC / (double) USEC_PER_SEC;

        snprintf(rate_text, 32, "%.6f", ours);
        snprintf(cap_text, 16, "%u", cap >= 1.0 ? (unsigned) cap : 1u);
}

int sender_new(sd_event *e, Redis *redis, Redis *redis_block, HttpClient *http, const SenderOptions *o,
               Sender **ret) {
        RedisName stream = redis_stream_outbox(o->bot);
        Sender *s = calloc(1, sizeof *s);
        int r = 0;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->redis = redis;
        s->http = http;
        if ((!(s->bot = strdup(o->bot)) || !(s->telegram_url = strdup(o->telegram_url)) ||
                       !(s->token = secret_new(o->token->data, o->token->size))))
                r = -ENOMEM;
        if (r >= 0) {
                StreamSpec spec = { .name = stream.s, .erase = true };
                r = stream_reader_new(e, redis, redis_block,
                                      &(StreamReaderOptions) {
                                              .streams = &spec,
                                              .n_streams = 1,
                                              .group = GROUP_SENDER,
                                              .consumer = o->consumer,
                                              .ordered = true,
                                              .max_held = HELD_MAX,
                                              .retention_usec = o->retention_usec,
                                              .command_timeout_usec = o->command_timeout_usec,
                                              .take = take,
                                              .handle = handle,
                                              .free_entry = call_free,
                                              .failed = daemon_stream_failed,
                                              .userdata = s,
                                      },
                                      &s->reader);
        }
        if (r < 0) {
                sender_free(s);
                return r;
        }
        s->bot_bucket = redis_key_flood_bot(o->bot);
        s->pause_key = redis_key_flood_pause(o->bot);
        set_bucket(s->rate, s->cap, MAX(o->per_second, 1u), MAX(o->per_second, 1u));
        set_bucket(s->chat_rate, s->chat_cap, MAX(o->chat_per_second, 1u), CHAT_BURST);
        set_bucket(s->group_rate, s->group_cap, MAX(o->group_per_minute, 1u) / 60.0, MAX(o->group_per_minute, 1u));
        *ret = s;
        return 0;
}

int sender_set_token(Sender *s, const Secret *token) {
        Secret *t = secret_new(token->data, token->size);

        if (!t)
                return -ENOMEM;
        secret_free(s->token);
        s->token = t;
        return 0;
}

SenderStats sender_stats(const Sender *s) {
        return s ? s->stats : (SenderStats) {};
}

Sender *sender_free(Sender *s) {
        if (!s)
                return NULL;
        stream_reader_free(s->reader);
        sd_event_source_disable_unref(s->gate);
        sd_event_unref(s->event);
        secret_free(s->token);
        free(s->telegram_url);
        free(s->bot);
        free(s);
        return NULL;
}
