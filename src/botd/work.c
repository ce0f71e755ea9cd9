/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "json-util.h"
#include "log.h"
#include "redis-script.h"
#include "work.h"

#define GROUP "botd"
#define READ_COUNT "100"
#define QUEUED_MAX 2000
#define DEDUPE_TTL "604800"
#define OUTBOX_MAXLEN "1000000"

/* The plan, atomically. KEYS: state, outbox, source stream, dedupe key ("" for none). ARGV:
 * group, entry id, state ("" clears it, "-" keeps it), TTL seconds, "1" to delete the entry from
 * its stream once handled (it may hold a secret) or "0", calls… */
static RedisScript commit_script = REDIS_SCRIPT(
        "if KEYS[4] ~= '' and not redis.call('SET', KEYS[4], '1', 'NX', 'EX', " DEDUPE_TTL ") then\n"
        "  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])\n"
        "  return 0\n"
        "end\n"
        "if ARGV[3] == '' then redis.call('DEL', KEYS[1])\n"
        "elseif ARGV[3] ~= '-' then redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) end\n"
        "for i = 6, #ARGV do\n"
        "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '" OUTBOX_MAXLEN "', '*', 'call', ARGV[i])\n"
        "end\n"
        "redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])\n"
        "if ARGV[5] == '1' then redis.call('XDEL', KEYS[3], ARGV[2]) end\n"
        "return 1\n");

/* A token bucket per user. KEYS: bucket, "told" flag. ARGV: per minute, burst. Returns 0 when
 * the request may go; else the milliseconds to wait, negative when the user was told already. */
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
        "  return 0\n"
        "end\n"
        "local wait = math.ceil((1 - tokens) / rate)\n"
        "if redis.call('SET', KEYS[2], '1', 'NX', 'PX', wait) then return wait end\n"
        "return -wait\n");

struct Updates {
        Botd *b;
        ChatMap chats;
        char updates_stream[96], events_stream[96], outbox[96];
        bool reading, backlog, group_ready;
        unsigned group_answers;
        char cursor_updates[48], cursor_events[48];
        char block_msec[16];
        sd_event_source *tick;
};

static void read_more(Updates *u);
static void work_start(Work *w);

static void work_free(Work *w) {
        json_object_put(w->root);
        json_object_put(w->state);
        for (unsigned i = 0; i < w->n_calls; i++)
                free(w->calls[i]);
        free(w);
}

static void work_free_item(ChatItem *it) {
        work_free((Work *) it);
}

static void state_key(const Botd *b, int64_t chat, char *buf, size_t size) {
        snprintf(buf, size, "chat:%s:%" PRId64, b->bot, chat);
}

/* --- the plan ------------------------------------------------------------------------------------ */

int work_call(Work *w, const char *method, json_object *params) {
        _cleanup_(json_object_putp) json_object *call = json_object_new_object();
        char *s;

        if (!params || !call) {
                json_object_put(params);
                return -ENOMEM;
        }
        if (w->n_calls >= WORK_CALLS_MAX) {
                json_object_put(params);
                return -E2BIG;
        }
        if (!json_object_object_get_ex(params, "chat_id", NULL) && !json_object_object_get_ex(params, "callback_query_id", NULL))
                json_object_object_add(params, "chat_id", json_object_new_int64(w->chat));
        json_object_object_add(call, "method", json_object_new_string(method));
        json_object_object_add(call, "chat", json_object_new_int64(w->chat));
        json_object_object_add(call, "params", params);
        s = strdup(json_object_to_json_string_ext(call, JSON_C_TO_STRING_PLAIN));
        if (!s)
                return -ENOMEM;
        w->calls[w->n_calls++] = s;
        return 0;
}

int work_send_text(Work *w, const char *text, json_object *markup) {
        json_object *p = json_object_new_object();

        json_object_object_add(p, "text", json_object_new_string(text));
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
        if (markup)
                json_object_object_add(p, "reply_markup", markup);
        return work_call(w, "sendMessage", p);
}

int work_edit_text(Work *w, const char *text, json_object *markup) {
        json_object *p;

        if (!w->callback_message)
                return work_send_text(w, text, markup);
        p = json_object_new_object();
        json_object_object_add(p, "message_id", json_object_new_int64(w->callback_message));
        json_object_object_add(p, "text", json_object_new_string(text));
        json_object_object_add(p, "parse_mode", json_object_new_string("HTML"));
        if (markup)
                json_object_object_add(p, "reply_markup", markup);
        return work_call(w, "editMessageText", p);
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

static void work_done(Work *w) {
        Updates *u = w->b->updates;
        ChatItem *next = chatmap_pop(&u->chats, w->q);

        work_free(w);
        if (next)
                work_start((Work *) next);
        read_more(u);
}

void work_abandon(Work *w) {
        work_done(w);
}

static void on_committed(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                /* Not committed: the entry stays pending and is handled again after a restart or
                 * the next backlog pass. Nothing of it took effect. */
                if (reply && !w->b->stopping)
                        log_warning("Committing %s %s failed: %s", w->stream, w->id, reply->str);
                w->b->stats.failures++;
                w->b->updates->group_ready = false;   /* read the backlog again once idle */
        }
        work_done(w);
}

void work_commit(Work *w) {
        Botd *b = w->b;
        char key[128], ttl[24];
        const char *argv[10 + WORK_CALLS_MAX];
        const char *state = "-";
        int argc = 0;

        /* A press must always be answered, or its button spins. */
        (void) work_answer(w, NULL, false);
        state_key(b, w->chat, key, sizeof key);
        if (w->state_changed)
                state = json_object_object_length(w->state) == 0 ? ""
                        : json_object_to_json_string_ext(w->state, JSON_C_TO_STRING_PLAIN);
        snprintf(ttl, sizeof ttl, "%" PRIu64, MAX(b->config.bots_chat_ttl_usec / USEC_PER_SEC, (uint64_t) 1));
        argv[argc++] = "4";
        argv[argc++] = key;
        argv[argc++] = b->updates->outbox;
        argv[argc++] = w->stream;
        argv[argc++] = w->dedupe_key;
        argv[argc++] = GROUP;
        argv[argc++] = w->id;
        argv[argc++] = state;
        argv[argc++] = ttl;
        argv[argc++] = b->role->erase_updates && !w->is_event ? "1" : "0";
        for (unsigned i = 0; i < w->n_calls; i++)
                argv[argc++] = w->calls[i];
        if (redis_script_eval(b->redis, &commit_script, on_committed, w, argc, argv, NULL) < 0)
                on_committed(b->redis, NULL, w);
}

/* --- handling an entry --------------------------------------------------------------------------- */

static void dispatch(Work *w) {
        if (w->is_event)
                w->b->role->handle_event(w);
        else
                w->b->role->handle_update(w);
}

static void on_state(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                w->b->updates->group_ready = false;
                return work_done(w);   /* left pending, as in on_committed() */
        }
        if (reply->type == REDIS_REPLY_STRING &&
            (json_parse(reply->str, reply->len, &w->state) < 0 || !json_object_is_type(w->state, json_type_object))) {
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

static void load_state(Work *w) {
        char key[128];
        const char *argv[] = { "GET", key };

        state_key(w->b, w->chat, key, sizeof key);
        if (redis_command_argv(w->b->redis, on_state, w, 2, argv, NULL) < 0)
                on_state(w->b->redis, NULL, w);
}

static void on_limit(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;
        Botd *b = w->b;
        char text[256];
        long long wait;

        if (!reply || reply->type != REDIS_REPLY_INTEGER || reply->integer == 0)
                return load_state(w);   /* allowed, or Redis cannot say: never refuse on our own fault */
        wait = reply->integer;
        b->stats.limited++;
        snprintf(text, sizeof text, T(w->lang, "Too many requests. Please wait %lld s and try again."),
                 (MAX(wait, -wait) + 999) / 1000);
        if (w->callback_id)
                (void) work_answer(w, text, false);
        else if (wait > 0) {
                log_struct(LOG_INFO, 0, LOG_FIELDS(.message_id = MSGID_USER_RATE_LIMITED, .bot = b->bot),
                           "User %" PRId64 " of bot %s is over the request limit.", w->user, b->bot);
                (void) work_send_text(w, text, NULL);
        }
        work_commit(w);
}

static void check_limit(Work *w) {
        Botd *b = w->b;
        char bucket[128], told[136], rate[24], burst[24];
        const char *argv[] = { "2", bucket, told, rate, burst };

        snprintf(bucket, sizeof bucket, "limit:%s:%" PRId64, b->bot, w->user);
        snprintf(told, sizeof told, "%s:told", bucket);
        snprintf(rate, sizeof rate, "%" PRIu64, MAX(b->config.bots_requests_per_minute, (uint64_t) 1));
        snprintf(burst, sizeof burst, "%" PRIu64, MAX(b->config.bots_request_burst, (uint64_t) 1));
        if (redis_script_eval(b->redis, &limit_script, on_limit, w, ELEMENTSOF(argv), argv, NULL) < 0)
                load_state(w);
}

static void work_start(Work *w) {
        const BotRole *role = w->b->role;

        w->q->busy = true;
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

/* Acknowledges an entry no role handles; a role that erases its updates has it deleted too. */
static void ack(Updates *u, const char *stream, const char *id) {
        const char *argv[] = { "XACK", stream, GROUP, id }, *del[] = { "XDEL", stream, id };

        (void) redis_command_argv(u->b->redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
        if (u->b->role->erase_updates && streq(stream, u->updates_stream))
                (void) redis_command_argv(u->b->redis, NULL, NULL, ELEMENTSOF(del), del, NULL);
}

static void enqueue(Updates *u, const char *stream, redisReply *entry) {
        Botd *b = u->b;
        redisReply *fields;
        const char *id, *body;
        bool first;
        Work *w;

        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING)
                return;
        id = entry->element[0]->str;
        fields = entry->element[1];
        w = calloc(1, sizeof *w);
        if (!w)
                return;
        *w = (Work) { .b = b, .is_event = streq(stream, u->events_stream) };
        snprintf(w->stream, sizeof w->stream, "%s", stream);
        snprintf(w->id, sizeof w->id, "%s", id);
        if (w->is_event) {
                const char *event = redis_stream_field(fields, "event"), *user = redis_stream_field(fields, "user");
                w->root = json_object_new_object();
                for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
                        json_object_object_add(w->root, fields->element[i]->str,
                                               json_object_new_string(fields->element[i + 1]->str ?: ""));
                w->user = user ? strtoll(user, NULL, 10) : 0;
                w->chat = w->user;   /* the shop talks to its users in private chats */
                snprintf(w->dedupe_key, sizeof w->dedupe_key, "done:%s:event:%s", b->bot, strempty(event));
                if (!event || w->user <= 0) {
                        log_warning("Event %s on %s is malformed; acknowledged.", id, stream);
                        ack(u, stream, id);
                        return work_free(w);
                }
                b->stats.events++;
        } else {
                body = redis_stream_field(fields, "body");
                if (!body || json_parse(body, strlen(body), &w->root) < 0 || !parse_update(w)) {
                        ack(u, stream, id);   /* nothing a bot answers */
                        return work_free(w);
                }
                b->stats.updates++;
        }
        w->q = chatmap_push(&u->chats, w->chat, &w->item, &first);
        if (!w->q)
                return work_free(w);
        if (first)
                work_start(w);
}

static void on_read(Redis *r, redisReply *reply, void *userdata) {
        Updates *u = userdata;
        bool any = false;

        u->reading = false;
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
                if (reply)
                        u->group_ready = false;
                return;
        }
        for (size_t s = 0; reply->type == REDIS_REPLY_ARRAY && s < reply->elements; s++) {
                redisReply *st = reply->element[s];
                if (st->type != REDIS_REPLY_ARRAY || st->elements != 2)
                        continue;
                const char *name = st->element[0]->str;
                redisReply *entries = st->element[1];
                for (size_t i = 0; i < entries->elements; i++) {
                        enqueue(u, name, entries->element[i]);
                        any = true;
                }
                if (u->backlog && entries->elements > 0) {
                        const char *last = entries->element[entries->elements - 1]->element[0]->str;
                        snprintf(streq(name, u->events_stream) ? u->cursor_events : u->cursor_updates, 48, "%s", last);
                }
        }
        if (u->backlog && !any)
                u->backlog = false;
        read_more(u);
}

static void read_more(Updates *u) {
        Botd *b = u->b;
        int r;

        if (b->stopping || u->reading || !u->group_ready || u->chats.n_items >= QUEUED_MAX)
                return;
        if (u->backlog) {
                const char *argv[] = { "XREADGROUP", "GROUP", GROUP, b->consumer, "COUNT", READ_COUNT, "STREAMS",
                                       u->updates_stream, u->events_stream, u->cursor_updates, u->cursor_events };
                r = redis_command_argv(b->redis, on_read, u, ELEMENTSOF(argv), argv, NULL);
        } else {
                const char *argv[] = { "XREADGROUP", "GROUP", GROUP, b->consumer, "COUNT", READ_COUNT, "BLOCK",
                                       u->block_msec, "STREAMS", u->updates_stream, u->events_stream, ">", ">" };
                r = redis_command_argv(b->redis_block, on_read, u, ELEMENTSOF(argv), argv, NULL);
        }
        u->reading = r >= 0;
}

static void on_group(Redis *r, redisReply *reply, void *userdata) {
        Updates *u = userdata;

        if (!reply || (reply->type == REDIS_REPLY_ERROR && !startswith(reply->str, "BUSYGROUP")))
                return;
        /* Both streams' groups exist once the second answer arrives. */
        if (++u->group_answers % 2)
                return;
        u->group_ready = true;
        u->backlog = true;
        snprintf(u->cursor_updates, sizeof u->cursor_updates, "0");
        snprintf(u->cursor_events, sizeof u->cursor_events, "0");
        read_more(u);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata) {
        Updates *u = userdata;

        if (!u->group_ready && redis_is_up(u->b->redis) && u->chats.n_items == 0) {
                u->group_answers = 0;
                /* From the beginning: what was accepted before the first start counts. */
                const char *a[] = { "XGROUP", "CREATE", u->updates_stream, GROUP, "0", "MKSTREAM" };
                const char *e[] = { "XGROUP", "CREATE", u->events_stream, GROUP, "0", "MKSTREAM" };
                (void) redis_command_argv(u->b->redis, on_group, u, ELEMENTSOF(a), a, NULL);
                (void) redis_command_argv(u->b->redis, on_group, u, ELEMENTSOF(e), e, NULL);
        } else
                read_more(u);
        (void) sd_event_source_set_time(src, usec + USEC_PER_SEC);
        return 0;
}

int updates_new(Botd *b, Updates **ret) {
        Updates *u = calloc(1, sizeof *u);
        uint64_t block;
        int r;

        if (!u)
                return -ENOMEM;
        u->b = b;
        snprintf(u->updates_stream, sizeof u->updates_stream, "updates:%s", b->bot);
        snprintf(u->events_stream, sizeof u->events_stream, "events:%s", b->bot);
        (void) sender_stream(b->bot, u->outbox, sizeof u->outbox);
        block = MIN(MAX(b->config.redis_command_timeout_usec / 2 / USEC_PER_MSEC, (uint64_t) 100), (uint64_t) 2000);
        snprintf(u->block_msec, sizeof u->block_msec, "%" PRIu64, block);
        r = chatmap_init(&u->chats, 4096);
        if (r >= 0)
                r = sd_event_add_time_relative(b->event, &u->tick, CLOCK_MONOTONIC, 0, 0, on_tick, u);
        if (r < 0) {
                updates_free(u);
                return r;
        }
        (void) sd_event_source_set_enabled(u->tick, SD_EVENT_ON);
        *ret = u;
        return 0;
}

uint64_t updates_queued(const Updates *u) {
        return u ? u->chats.n_items : 0;
}

Updates *updates_free(Updates *u) {
        if (!u)
                return NULL;
        chatmap_done(&u->chats, work_free_item);
        sd_event_source_disable_unref(u->tick);
        free(u);
        return NULL;
}
