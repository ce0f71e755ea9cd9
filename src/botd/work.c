/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "json-util.h"
#include "log-fields.h"
#include "redis-script.h"
#include "work.h"

#define HELD_MAX 2000
#define DEDUPE_TTL "604800"

/* The plan, atomically, with the flood budget of the calls it makes, so that each one that may
 * go at once leaves without asking again. KEYS: state, outbox, source stream, dedupe key ("" for
 * none), the bot's flood bucket and pause (sender.h), then each call's chat bucket. ARGV: group,
 * entry id, state ("" clears it, "-" keeps it), TTL seconds, "1" to delete the entry from its
 * stream once handled (it may hold a secret) or "0", the bot's rate/s and capacity, the grant
 * mark (outbox_grant_mark(); "" grants nothing), then method, chat, params, chat rate/s, chat
 * capacity and whether it counts, of each call. */
static RedisScript commit_script = REDIS_SCRIPT(
        SENDER_GRANT_LUA
        "if KEYS[4] ~= '' and not redis.call('SET', KEYS[4], '1', 'NX', 'EX', " DEDUPE_TTL ") then\n"
        "  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])\n"
        "  return 0\n"
        "end\n"
        "if ARGV[3] == '' then redis.call('DEL', KEYS[1])\n"
        "elseif ARGV[3] ~= '-' then redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) end\n"
        "local n, calls, granted = (#ARGV - 8) / 6, {}, {}\n"
        "for i = 1, n do\n"
        "  local a = 3 + 6 * i\n"
        "  calls[i] = { KEYS[6 + i], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), ARGV[a + 5] == '1' }\n"
        "end\n"
        "if ARGV[8] ~= '' and n > 0 then\n"
        "  granted = sender_grant(KEYS[5], KEYS[6], tonumber(ARGV[6]), tonumber(ARGV[7]), calls)\n"
        "end\n"
        "for i = 1, n do\n"
        "  local a, grant = 3 + 6 * i, {}\n"
        "  if granted[2 * i - 1] == 0 then grant = { '" OUTBOX_GRANT "', ARGV[8] } end\n"
        "  redis.call('XADD', KEYS[2], '*', '" OUTBOX_METHOD "', ARGV[a], '" OUTBOX_CHAT "', ARGV[a + 1], '"
        OUTBOX_PARAMS "', ARGV[a + 2], unpack(grant))\n"
        "end\n"
        "redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])\n"
        "if ARGV[5] == '1' then redis.call('XDEL', KEYS[3], ARGV[2]) end\n"
        "return 1\n");

/* A token bucket per user, and the conversation's state in the same round trip. KEYS: bucket,
 * "told" flag, state. ARGV: per minute, burst. Returns {verdict, state or false}: verdict 0 when
 * the request may go, else the milliseconds to wait, negative when the user was told already. */
static RedisScript limit_script = REDIS_SCRIPT(
        "local t = redis.call('TIME')\n"
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        "local rate, cap = tonumber(ARGV[1]) / 60000, tonumber(ARGV[2])\n"
        "local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')\n"
        "local tokens = cap\n"
        "if v[1] then tokens = math.min(cap, tonumber(v[1]) + (now - tonumber(v[2])) * rate) end\n"
        "if tokens >= 1 then\n"
        "  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)\n"
        "  redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate))\n"
        "  return {0, redis.call('GET', KEYS[3])}\n"
        "end\n"
        "local wait = math.ceil((1 - tokens) / rate)\n"
        "if redis.call('SET', KEYS[2], '1', 'NX', 'PX', wait) then return {wait, false} end\n"
        "return {-wait, false}\n");

enum { STREAM_UPDATES, STREAM_EVENTS };

struct Updates {
        Botd *b;
        StreamReader *reader;
        RedisName outbox;
};

static void work_free(StreamEntry *e) {
        Work *w = container_of(e, Work, entry);

        json_object_put(w->root);
        json_object_put(w->state);
        json_object_put(w->scratch);
        for (unsigned i = 0; i < w->n_calls; i++)
                outbox_call_done(&w->calls[i]);
        free(w);
}

/* --- the plan ------------------------------------------------------------------------------------ */

int work_call_to(Work *w, int64_t chat, const char *method, json_object *params) {
        _cleanup_(json_object_putp) json_object *p = params;

        if (!p)
                return -ENOMEM;
        if (w->n_calls >= WORK_CALLS_MAX)
                return -E2BIG;
        if (!json_object_object_get_ex(p, "callback_query_id", NULL))
                json_object_object_add(p, "chat_id", json_object_new_int64(chat));
        if (outbox_call_format(chat, method, p, &w->calls[w->n_calls]) < 0)
                return -ENOMEM;
        w->n_calls++;
        return 0;
}

int work_call(Work *w, const char *method, json_object *params) {
        return work_call_to(w, w->chat, method, params);
}

int work_send_to(Work *w, int64_t chat, const char *text, json_object *markup) {
        json_object *p = json_object_new_object();

        json_object_object_add(p, "text", json_object_new_string(text));
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
        if (markup)
                json_object_object_add(p, "reply_markup", markup);
        return work_call_to(w, chat, "sendMessage", p);
}

int work_send_text(Work *w, const char *text, json_object *markup) {
        return work_send_to(w, w->chat, text, markup);
}

int work_edit_message(Work *w, int64_t message_id, const char *text, json_object *markup) {
        json_object *p = json_object_new_object();

        json_object_object_add(p, "message_id", json_object_new_int64(message_id));
        json_object_object_add(p, "text", json_object_new_string(text));
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
        if (markup)
                json_object_object_add(p, "reply_markup", markup);
        return work_call(w, "editMessageText", p);
}

int work_edit_text(Work *w, const char *text, json_object *markup) {
        if (!w->callback_message)
                return work_send_text(w, text, markup);
        return work_edit_message(w, w->callback_message, text, markup);
}

int work_answer(Work *w, const char *text, bool alert) {
        json_object *p;

        if (!w->callback_id || w->callback_answered)
                return 0;
        w->callback_answered = true;
        p = json_object_new_object();
        json_object_object_add(p, "callback_query_id", json_object_new_string(w->callback_id));
        if (text)
                json_object_object_add(p, "text", json_object_new_string(text));
        if (alert)
                json_object_object_add(p, "show_alert", json_object_new_boolean(true));
        return work_call(w, "answerCallbackQuery", p);
}

void work_set_state(Work *w, json_object *state) {
        json_object_put(w->state);
        w->state = state ?: json_object_new_object();
        w->state_changed = true;
}

static const char *work_stream(const Work *w) {
        return stream_reader_stream(w->b->updates->reader, w->entry.stream);
}

static void work_done(Work *w, StreamOutcome outcome) {
        stream_reader_done(w->b->updates->reader, &w->entry, outcome);
}

void work_abandon(Work *w) {
        work_done(w, STREAM_RETRY);
}

static void on_committed(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        if (redis_reply_errno(reply) < 0) {
                /* Not committed: nothing of it took effect; the entry stays pending and comes again
                 * after the retry pause, the chat's later entries behind it. */
                if (!w->b->daemon.stopping)
                        log_warning("Committing %s %s failed: %s", work_stream(w), w->entry.id,
                                    redis_reply_message(reply));
                w->b->stats.failures++;
                return work_done(w, STREAM_RETRY);
        }
        work_done(w, STREAM_ACKED);   /* by the script */
}

void work_commit(Work *w) {
        Botd *b = w->b;
        RedisName key = redis_key_chat_state(b->bot, w->chat);
        SenderBudget budget = sender_budget(b->sender);
        SenderCallBudget calls[WORK_CALLS_MAX];
        char ttl[24], numkeys[16], grant[OUTBOX_GRANT_MAX] = "";
        const char *argv[16 + 7 * WORK_CALLS_MAX];
        const char *state = "-";
        int argc = 0;

        /* A press must always be answered, or its button spins. */
        (void) work_answer(w, NULL, false);
        if (w->state_changed)
                state = json_object_object_length(w->state) == 0 ? ""
                        : json_object_to_json_string_ext(w->state, JSON_C_TO_STRING_PLAIN);
        snprintf(ttl, sizeof ttl, "%" PRIu64, MAX(b->daemon.config.bots_chat_ttl_usec / USEC_PER_SEC, (uint64_t) 1));
        (void) outbox_grant_mark(grant);   /* on failure the sender asks for the budget itself */
        snprintf(numkeys, sizeof numkeys, "%u", 6 + w->n_calls);
        argv[argc++] = numkeys;
        argv[argc++] = key.s;
        argv[argc++] = b->updates->outbox.s;
        argv[argc++] = work_stream(w);
        argv[argc++] = w->dedupe_key.s;
        argv[argc++] = budget.bucket;
        argv[argc++] = budget.pause;
        for (unsigned i = 0; i < w->n_calls; i++) {
                calls[i] = sender_call_budget(b->sender, &w->calls[i]);
                argv[argc++] = calls[i].key.s;
        }
        argv[argc++] = GROUP_BOTD;
        argv[argc++] = w->entry.id;
        argv[argc++] = state;
        argv[argc++] = ttl;
        argv[argc++] = b->role->erase_updates && !w->is_event ? "1" : "0";
        argv[argc++] = budget.rate;
        argv[argc++] = budget.cap;
        argv[argc++] = grant;
        for (unsigned i = 0; i < w->n_calls; i++) {
                argv[argc++] = w->calls[i].method;
                argv[argc++] = w->calls[i].chat;
                argv[argc++] = w->calls[i].params;
                argv[argc++] = calls[i].rate;
                argv[argc++] = calls[i].cap;
                argv[argc++] = calls[i].counts;
        }
        if (redis_script_eval(b->daemon.redis, &commit_script, on_committed, w, argc, argv, NULL) < 0)
                on_committed(b->daemon.redis, NULL, w);
}

/* --- handling an entry --------------------------------------------------------------------------- */

static void dispatch(Work *w) {
        if (w->is_event)
                w->b->role->handle_event(w);
        else
                w->b->role->handle_update(w);
}

/* @state is the conversation's state as Redis holds it (a nil reply when there is none). */
static void state_loaded(Work *w, const redisReply *state) {
        if (state->type == REDIS_REPLY_STRING &&
            (json_parse(state->str, state->len, &w->state) < 0 || !json_object_is_type(w->state, json_type_object))) {
                json_object_put(w->state);
                w->state = NULL;
        }
        if (!w->state)
                w->state = json_object_new_object();
        if (w->is_event) {
                /* The user's language is remembered in the state; a stale one defaults to Russian. */
                w->lang = lang_from_string(json_get_string(w->state, "lang"));
        } else {
                const char *remembered = json_get_string(w->state, "lang");
                if (!streq_ptr(remembered, lang_to_string(w->lang))) {
                        json_object_object_add(w->state, "lang", json_object_new_string(lang_to_string(w->lang)));
                        w->state_changed = true;
                }
        }
        dispatch(w);
}

static void on_state(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        if (redis_reply_errno(reply) < 0)
                return work_done(w, STREAM_RETRY);   /* as in on_committed() */
        state_loaded(w, reply);
}

static void load_state(Work *w) {
        RedisName key = redis_key_chat_state(w->b->bot, w->chat);
        const char *argv[] = { "GET", key.s };

        if (redis_command_argv(w->b->daemon.redis, on_state, w, 2, argv, NULL) < 0)
                on_state(w->b->daemon.redis, NULL, w);
}

static void on_limit(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;
        Botd *b = w->b;
        char text[256];
        long long wait;

        if (redis_reply_errno(reply) < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_INTEGER)
                return work_done(w, STREAM_RETRY);   /* as in on_committed() */
        wait = reply->element[0]->integer;
        if (wait == 0)
                return state_loaded(w, reply->element[1]);
        b->stats.limited++;
        snprintf(text, sizeof text, T(w->lang, "Too many requests. Please wait %lld s and try again."),
                 (MAX(wait, -wait) + 999) / 1000);
        if (w->callback_id)
                (void) work_answer(w, text, false);
        else if (wait > 0) {
                log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_USER_RATE_LIMITED), LOG_BOT(b->bot)),
                           "User %" PRId64 " of bot %s is over the request limit.", w->user, b->bot);
                (void) work_send_text(w, text, NULL);
        }
        work_commit(w);
}

static void check_limit(Work *w) {
        Botd *b = w->b;
        RedisName bucket = redis_key_user_limit(b->bot, w->user), state = redis_key_chat_state(b->bot, w->chat);
        char told[sizeof bucket.s + 8], rate[24], burst[24];
        const char *argv[] = { "3", bucket.s, told, state.s, rate, burst };

        snprintf(told, sizeof told, "%s:told", bucket.s);
        snprintf(rate, sizeof rate, "%" PRIu64, MAX(b->daemon.config.bots_requests_per_minute, (uint64_t) 1));
        snprintf(burst, sizeof burst, "%" PRIu64, MAX(b->daemon.config.bots_request_burst, (uint64_t) 1));
        if (redis_script_eval(b->daemon.redis, &limit_script, on_limit, w, ELEMENTSOF(argv), argv, NULL) < 0)
                on_limit(b->daemon.redis, NULL, w);
}

/* The entry's turn: the request limit, the state, then the role. */
static void handle(StreamReader *sr, StreamEntry *e, void *userdata) {
        Work *w = container_of(e, Work, entry);
        const BotRole *role = w->b->role;

        if (w->is_event || (role->trusted && role->trusted(w->b, w->user)))
                load_state(w);
        else
                check_limit(w);
}

/* Reads the facts of an update. Returns false for updates no role handles (edits, joins, …). */
static bool parse_update(Work *w) {
        json_object *msg, *from = NULL, *chat, *cq;
        const char *code = NULL;

        if (json_object_object_get_ex(w->root, "callback_query", &cq)) {
                w->callback_id = json_get_string(cq, "id");
                w->callback_data = json_get_string(cq, "data");
                if (!json_object_object_get_ex(cq, "from", &from) || !w->callback_id ||
                    !json_object_object_get_ex(cq, "message", &msg) || !json_object_object_get_ex(msg, "chat", &chat) ||
                    json_get_int64(chat, "id", &w->chat) < 0)
                        return false;
                (void) json_get_int64(msg, "message_id", &w->callback_message);
        } else if (json_object_object_get_ex(w->root, "message", &msg)) {
                if (!json_object_object_get_ex(msg, "chat", &chat) || json_get_int64(chat, "id", &w->chat) < 0 ||
                    !json_object_object_get_ex(msg, "from", &from))
                        return false;
                w->text = json_get_string(msg, "text");
                (void) json_get_int64(msg, "message_id", &w->message_id);
        } else
                return false;
        if (json_get_int64(from, "id", &w->user) < 0 || w->user <= 0)
                return false;
        code = json_get_string(from, "language_code");
        w->lang = lang_from_code(code);
        return true;
}

static int take(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields, void *userdata,
                StreamEntry **ret) {
        Updates *u = userdata;
        Botd *b = u->b;
        const char *body;
        Work *w;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (Work) { .b = b, .is_event = stream == STREAM_EVENTS };
        if (w->is_event) {
                const char *event = redis_stream_field(fields, "event"), *user = redis_stream_field(fields, "user");
                w->root = json_object_new_object();
                for (size_t i = 0; fields && i + 1 < fields->elements; i += 2)
                        json_object_object_add(w->root, fields->element[i]->str,
                                               json_object_new_string(fields->element[i + 1]->str ?: ""));
                w->user = user ? strtoll(user, NULL, 10) : 0;
                w->chat = w->user;   /* the shop talks to its users in private chats */
                if (!event || strlen(event) > REDIS_ID_MAX || w->user <= 0) {
                        log_warning("Event %s on %s is malformed; acknowledged.", id, stream_reader_stream(sr, stream));
                        work_free(&w->entry);
                        return STREAM_ACK;
                }
                w->dedupe_key = redis_key_event_done(b->bot, event);
                b->stats.events++;
        } else {
                body = redis_stream_field(fields, "body");
                if (!body || json_parse(body, strlen(body), &w->root) < 0 || !parse_update(w)) {
                        work_free(&w->entry);
                        return STREAM_ACK;   /* nothing a bot answers */
                }
                b->stats.updates++;
        }
        w->entry.key = w->chat;
        *ret = &w->entry;
        return 0;
}

int updates_new(Botd *b, Updates **ret) {
        RedisName updates = redis_stream_updates(b->bot), events = redis_stream_events(b->bot);
        const StreamSpec streams[] = {
                [STREAM_UPDATES] = { .name = updates.s, .erase = b->role->erase_updates },
                [STREAM_EVENTS] = { .name = events.s },
        };
        Updates *u = calloc(1, sizeof *u);
        int r;

        if (!u)
                return -ENOMEM;
        u->b = b;
        u->outbox = redis_stream_outbox(b->bot);
        r = stream_reader_new(b->daemon.event, b->daemon.redis, b->daemon.redis_blocking[0],
                              &(StreamReaderOptions) {
                                      .streams = streams,
                                      .n_streams = ELEMENTSOF(streams),
                                      .group = GROUP_BOTD,
                                      .consumer = b->daemon.consumer,
                                      .ordered = true,
                                      .max_held = HELD_MAX,
                                      .retention_usec = b->daemon.config.redis_stream_retention_usec,
                                      .command_timeout_usec = b->daemon.config.redis_command_timeout_usec,
                                      .take = take,
                                      .handle = handle,
                                      .free_entry = work_free,
                                      .failed = daemon_stream_failed,
                                      .userdata = u,
                              },
                              &u->reader);
        if (r < 0) {
                free(u);
                return r;
        }
        *ret = u;
        return 0;
}

uint64_t updates_queued(const Updates *u) {
        return u ? stream_reader_held(u->reader) : 0;
}

Updates *updates_free(Updates *u) {
        if (!u)
                return NULL;
        stream_reader_free(u->reader);
        free(u);
        return NULL;
}
