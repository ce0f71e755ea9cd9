/* SPDX-License-Identifier: MIT */
/* The Telegram Bot API as reference/protocols.md §3 describes it: /bot<token>/<method> with query,
 * form or JSON parameters, {"ok":…} answers whose HTTP status is the error_code, webhook delivery
 * with the secret header, one update in flight per chat (a chat's next update waits until the
 * previous one was answered 2xx), retries with doubling delays, and flood control answering 429
 * with retry_after. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "entities.h"
#include "json-util.h"
#include "log.h"
#include "sandbox.h"

typedef struct Message {
        struct Message *next;
        int64_t message_id;
        bool from_bot;
        bool deleted;
        int64_t date;
        uint64_t at_usec;            /* CLOCK_REALTIME µs when it was sent (shown to the control API) */
        char *text;                  /* as the user sees it: parse_mode applied; NULL for no text */
        json_object *entities;       /* its MessageEntity array, or NULL when there are none */
        const char *kind;            /* NULL, or what it holds instead of a text: "location", … (static) */
        json_object *content;        /* that object */
        bool caption;                /* text and entities are the caption of that content */
        char *invoice_payload;       /* an invoice's payload: the bot's, never shown */
        json_object *reply_markup;   /* InlineKeyboardMarkup or NULL */
} Message;

typedef struct Update {
        struct Update *next;
        int64_t update_id;
        char *json;
} Update;

typedef struct Bucket {
        double tokens;
        uint64_t at;                 /* CLOCK_MONOTONIC µs of the last refill */
} Bucket;

#define CHAT_BUCKETS 4096

typedef struct Chat {
        struct Chat *next;
        struct Chat *bucket_next;     /* in the bot's chats_by_id */
        Bot *bot;
        int64_t id;
        char *language;
        Message *messages, *last;
        Update *queue, *queue_tail;
        bool in_flight;
        unsigned attempts;
        sd_event_source *retry;
        Bucket bucket;
        bool blocked;                 /* the user blocked the bot */
        bool deactivated;             /* the user's account is deleted */
        int64_t migrated_to;          /* a group upgraded to this supergroup, or 0 */
} Chat;

/* A file the bot sent, by its file_id: sending that id again sends the same file. */
typedef struct File {
        struct File *next;
        char id[64];
        char unique_id[24];
        const char *kind;            /* "photo" or "document" (static) */
        json_object *info;           /* file_name, mime_type, file_size as Telegram tells them */
} File;

typedef struct CallbackQuery {
        struct CallbackQuery *next;
        char id[32];
        bool answered;
        bool alert;                  /* the answer is an alert, not a notice */
        char *answer_text;
} CallbackQuery;

/* A user went to pay an invoice in Telegram Stars: the bot must answer before it is charged. */
typedef struct PreCheckout {
        struct PreCheckout *next;
        char id[32];
        Chat *chat;
        json_object *invoice;        /* currency, total_amount, payload */
        bool answered;
        char *error;                 /* the bot refused it, saying this */
} PreCheckout;

struct Bot {
        Bot *next;
        Sandbox *sb;
        char *token;
        int64_t id;
        char *username;
        char *webhook_url;
        char *secret;
        int64_t max_connections;
        char *certificate;           /* the file of the certificate setWebhook was given (a
                                      * self-signed one), trusted for deliveries; or NULL */
        json_object *allowed_updates;
        int64_t last_error_date;
        char *last_error_message;
        Chat *chats;
        Chat *chats_by_id[CHAT_BUCKETS];   /* the same chats, found by id in O(1) */
        Bucket bucket;
        int64_t next_message_id;
        CallbackQuery *queries;
        uint64_t sent;               /* messages sent by the bot */
        uint64_t too_many;           /* 429 answers */
        HttpExchange *poll;          /* a getUpdates waiting for updates, or NULL */
        sd_event_source *poll_timer;
        int64_t poll_limit;
        json_object *commands;       /* setMyCommands: {"<scope>/<language>": [BotCommand]} */
        File *files;
        unsigned next_file;
        PreCheckout *checkouts;
};

/* --- helpers ---------------------------------------------------------------------------------- */

static uint64_t now_usec(Sandbox *sb) {
        uint64_t t;
        (void) sd_event_now(sb->event, CLOCK_MONOTONIC, &t);
        return t;
}

static ApiReply tg_ok(json_object *result) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(true));
        json_object_object_add(o, "result", result);
        return api_reply(200, o);
}

/* The error shape of the official server: HTTP status = error_code. */
static ApiReply tg_error(int code, const char *description, int retry_after) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "error_code", json_object_new_int(code));
        json_object_object_add(o, "description", json_object_new_string(description));
        if (retry_after > 0) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "retry_after", json_object_new_int(retry_after));
                json_object_object_add(o, "parameters", p);
        }
        return api_reply((unsigned) code, o);
}

static const char *param_string(json_object *params, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(params, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return json_object_get_string(v);  /* numbers and booleans come back as text */
}

static bool param_int64(json_object *params, const char *key, int64_t *ret) {
        const char *s = param_string(params, key);
        char *end;
        long long v;

        if (!s || !*s)
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

/* A JSON-valued parameter: an object in a JSON body, or its serialisation in a form or query. */
static json_object *param_json(json_object *params, const char *key, bool *bad) {
        json_object *v, *parsed;

        if (!json_object_object_get_ex(params, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        if (!json_object_is_type(v, json_type_string))
                return json_object_get(v);
        if (json_parse(json_object_get_string(v), (size_t) json_object_get_string_len(v), &parsed) < 0) {
                *bad = true;
                return NULL;
        }
        return parsed;
}

static bool token_valid(const char *t) {
        const char *colon = strchr(t, ':');
        size_t digits = colon ? (size_t) (colon - t) : 0, rest;

        if (digits == 0 || digits > 20 || strspn(t, "0123456789") != digits)
                return false;
        rest = strlen(colon + 1);
        return rest >= 20 && rest <= 64 &&
               strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == rest;
}

/* --- bots and chats ------------------------------------------------------------------------------ */

static Bot *bot_new(Sandbox *sb, const char *token, const char *username) {
        Bot *b = calloc(1, sizeof *b);
        char name[64];

        b->sb = sb;
        b->token = strdup(token);
        b->id = strtoll(token, NULL, 10);
        if (!username) {
                snprintf(name, sizeof name, "sandbox%" PRIi64 "_bot", b->id);
                username = name;
        }
        b->username = strdup(username);
        b->next_message_id = 1;
        b->next = sb->bots;
        sb->bots = b;
        return b;
}

Bot *bot_find(Sandbox *sb, const char *name_or_token) {
        for (Bot *b = sb->bots; b; b = b->next)
                if (streq(b->token, name_or_token) || strcasecmp(b->username, name_or_token) == 0)
                        return b;
        return NULL;
}

Bot *bot_next(Bot *b) {
        return b->next;
}

const char *bot_token(Bot *b) {
        return b->token;
}

/* Registers a bot for the control API: POST /sandbox/bots. */
Bot *telegram_create_bot(Sandbox *sb, const char *username, const char *token) {
        char generated[80];
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

        if (username && bot_find(sb, username))
                return NULL;
        if (!token) {
                int64_t id = 7000000000LL + (int64_t) (random() % 1000000000L);
                int n = snprintf(generated, sizeof generated, "%" PRIi64 ":", id);
                for (int i = 0; i < 35; i++)
                        generated[n + i] = alphabet[random() % 64];
                generated[n + 35] = 0;
                token = generated;
        }
        if (!token_valid(token) || bot_find(sb, token))
                return NULL;
        return bot_new(sb, token, username);
}

static Chat *chat_get(Bot *b, int64_t id, bool create) {
        Chat **bucket = &b->chats_by_id[(uint64_t) id % CHAT_BUCKETS];

        for (Chat *c = *bucket; c; c = c->bucket_next)
                if (c->id == id)
                        return c;
        if (!create)
                return NULL;
        Chat *c = calloc(1, sizeof *c);
        c->bot = b;
        c->id = id;
        c->next = b->chats;
        b->chats = c;
        c->bucket_next = *bucket;
        *bucket = c;
        return c;
}

void telegram_bot_counters(Bot *b, json_object *o) {
        json_object_object_add(o, "messages_sent", json_object_new_int64((int64_t) b->sent));
        json_object_object_add(o, "too_many_requests", json_object_new_int64((int64_t) b->too_many));
}

json_object *telegram_bot_info(Bot *b) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int64(b->id));
        json_object_object_add(o, "is_bot", json_object_new_boolean(true));
        json_object_object_add(o, "first_name", json_object_new_string(b->username));
        json_object_object_add(o, "username", json_object_new_string(b->username));
        json_object_object_add(o, "can_join_groups", json_object_new_boolean(true));
        json_object_object_add(o, "can_read_all_group_messages", json_object_new_boolean(false));
        json_object_object_add(o, "supports_inline_queries", json_object_new_boolean(false));
        json_object_object_add(o, "can_connect_to_business", json_object_new_boolean(false));
        json_object_object_add(o, "has_main_web_app", json_object_new_boolean(false));
        return o;
}

static json_object *user_json(int64_t id, const char *language) {
        char name[32];
        json_object *u = json_object_new_object();
        snprintf(name, sizeof name, "User%" PRIi64, id);
        json_object_object_add(u, "id", json_object_new_int64(id));
        json_object_object_add(u, "is_bot", json_object_new_boolean(false));
        json_object_object_add(u, "first_name", json_object_new_string(name));
        if (language)
                json_object_object_add(u, "language_code", json_object_new_string(language));
        return u;
}

/* Supergroup and channel ids are -100 followed by the chat's own number. */
#define SUPERGROUP_BASE INT64_C(1000000000000)

static json_object *chat_json(int64_t id) {
        char name[32];
        json_object *c = json_object_new_object();
        snprintf(name, sizeof name, "User%" PRIi64, id);
        json_object_object_add(c, "id", json_object_new_int64(id));
        if (id > 0) {
                json_object_object_add(c, "first_name", json_object_new_string(name));
                json_object_object_add(c, "type", json_object_new_string("private"));
        } else if (id <= -SUPERGROUP_BASE) {
                json_object_object_add(c, "title", json_object_new_string("Sandbox group"));
                json_object_object_add(c, "type", json_object_new_string("supergroup"));
        } else {
                json_object_object_add(c, "title", json_object_new_string("Sandbox group"));
                json_object_object_add(c, "type", json_object_new_string("group"));
        }
        return c;
}

/* The length of the bot command @text starts with, as Telegram marks it: "/" and 1–32 of
 * A-Z a-z 0-9 _, with "@username" when one follows; 0 when it does not start with one. */
static size_t command_length(const char *text) {
        static const char word[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
        size_t n, at;

        if (text[0] != '/')
                return 0;
        n = strspn(text + 1, word);
        if (n == 0 || n > 32)
                return 0;
        if (text[1 + n] != '@')
                return 1 + n;
        at = strspn(text + 2 + n, word);
        return at > 0 ? 2 + n + at : 1 + n;
}

static json_object *message_json(Bot *b, Chat *c, Message *m) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "message_id", json_object_new_int64(m->message_id));
        json_object_object_add(o, "from", m->from_bot ? telegram_bot_info(b) : user_json(c->id, c->language));
        json_object_object_add(o, "chat", chat_json(c->id));
        json_object_object_add(o, "date", json_object_new_int64(m->date));
        if (m->text)
                json_object_object_add(o, m->caption ? "caption" : "text", json_object_new_string(m->text));
        if (m->entities)
                json_object_object_add(o, m->caption ? "caption_entities" : "entities", json_object_get(m->entities));
        if (m->kind)
                json_object_object_add(o, m->kind, json_object_get(m->content));
        if (m->reply_markup)
                json_object_object_add(o, "reply_markup", json_object_get(m->reply_markup));
        return o;
}

/* The entities Telegram finds in what a user types: a bot command at its start. NULL for none. */
static json_object *user_entities(const char *text) {
        json_object *entities, *e;

        if (command_length(text) == 0)
                return NULL;
        entities = json_object_new_array();
        e = json_object_new_object();
        json_object_object_add(e, "offset", json_object_new_int(0));
        json_object_object_add(e, "length", json_object_new_int((int) command_length(text)));
        json_object_object_add(e, "type", json_object_new_string("bot_command"));
        json_object_array_add(entities, e);
        return entities;
}

/* Adds a message to @c; @text is copied, @entities (an empty array is dropped) and @markup taken. */
static Message *message_add(Bot *b, Chat *c, bool from_bot, const char *text, json_object *entities,
                            json_object *markup) {
        Message *m = calloc(1, sizeof *m);
        m->message_id = b->next_message_id++;
        m->from_bot = from_bot;
        m->date = (int64_t) time(NULL);
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        m->at_usec = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        m->text = text ? strdup(text) : NULL;
        if (entities && json_object_array_length(entities) == 0)
                entities = (json_object_put(entities), NULL);
        m->entities = entities;
        m->reply_markup = markup;
        if (c->last)
                c->last->next = m;
        else
                c->messages = m;
        c->last = m;
        return m;
}

static Message *message_find(Chat *c, int64_t id) {
        for (Message *m = c->messages; m; m = m->next)
                if (m->message_id == id && !m->deleted)
                        return m;
        return NULL;
}

/* --- flood control ------------------------------------------------------------------------------- */

/* Takes a token from @bk (capacity @cap, @rate tokens per second). Returns 0, or the seconds to
 * wait (≥ 1) when empty. */
static int bucket_take(Sandbox *sb, Bucket *bk, double cap, double rate) {
        uint64_t now = now_usec(sb);

        if (bk->at == 0)
                bk->tokens = cap;
        else
                bk->tokens = fmin(cap, bk->tokens + (double) (now - bk->at) / 1e6 * rate);
        bk->at = now;
        if (bk->tokens >= 1.0) {
                bk->tokens -= 1.0;
                return 0;
        }
        return (int) ceil((1.0 - bk->tokens) / rate);
}

/* Checks the bot's and the chat's budgets; both are charged only when both allow. */
static int flood_check(Sandbox *sb, Bot *b, Chat *c) {
        const SandboxLimits *l = &sb->limits;
        Bucket bot = b->bucket, chat = c->bucket;
        int wait_bot, wait_chat;

        wait_bot = bucket_take(sb, &bot, l->bot_per_sec, l->bot_per_sec);
        if (c->id > 0)
                wait_chat = bucket_take(sb, &chat, l->chat_burst, l->chat_per_sec);
        else
                wait_chat = bucket_take(sb, &chat, l->group_per_min, l->group_per_min / 60.0);
        if (wait_bot || wait_chat) {
                /* Refill times are kept; the failed attempt costs nothing. */
                b->bucket.tokens = bot.tokens + (wait_bot ? 0 : 1);
                b->bucket.at = bot.at;
                c->bucket.tokens = chat.tokens + (wait_chat ? 0 : 1);
                c->bucket.at = chat.at;
                return MAX(wait_bot, wait_chat);
        }
        b->bucket = bot;
        c->bucket = chat;
        return 0;
}

/* --- webhook delivery ---------------------------------------------------------------------------- */

/* Drops the oldest update of @c's queue. */
static void update_pop(Chat *c) {
        Update *u = c->queue;

        c->queue = u->next;
        if (!c->queue)
                c->queue_tail = NULL;
        free(u->json);
        free(u);
}

static void deliver(Chat *c);
static void run_webhook_answer(Bot *b, const HttpResponse *r);
static json_object *location_param(json_object *p, ApiReply *error);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Chat *c = userdata;
        (void) usec;
        c->retry = sd_event_source_unref(s);
        deliver(c);
        return 0;
}

static void on_delivered(HttpClient *client, const HttpResponse *r, void *userdata) {
        Chat *c = userdata;
        Bot *b = c->bot;
        Sandbox *sb = b->sb;
        char msg[160];
        (void) client;

        c->in_flight = false;
        if (r->error == 0 && r->status >= 200 && r->status < 300) {
                run_webhook_answer(b, r);
                update_pop(c);
                c->attempts = 0;
                deliver(c);
                return;
        }
        if (r->error == 0)
                snprintf(msg, sizeof msg, "Wrong response from the webhook: %ld", r->status);
        else
                snprintf(msg, sizeof msg, "Connection failed: %s", strerror(-r->error));
        free(b->last_error_message);
        b->last_error_message = strdup(msg);
        b->last_error_date = (int64_t) time(NULL);
        /* The first retry is immediate, then the delay doubles up to the cap. */
        uint64_t delay = c->attempts == 0 ? 0 : MIN(sb->limits.retry_base_usec << MIN(c->attempts - 1, 20u),
                                                    sb->limits.retry_max_usec);
        c->attempts++;
        (void) sd_event_add_time_relative(sb->event, &c->retry, CLOCK_MONOTONIC, delay, 0, on_retry, c);
}

static void deliver(Chat *c) {
        Bot *b = c->bot;
        Sandbox *sb = b->sb;
        char header[300];

        if (c->in_flight || c->retry || !c->queue || !b->webhook_url)
                return;
        const char *headers[] = { "Content-Type: application/json", header, NULL };
        if (b->secret)
                snprintf(header, sizeof header, "X-Telegram-Bot-Api-Secret-Token: %s", b->secret);
        else
                headers[1] = NULL;
        c->in_flight = true;
        if (http_client_request(sb->client,
                                &(HttpRequest) { .method = "POST", .url = b->webhook_url, .headers = headers,
                                                 .body = c->queue->json, .body_size = strlen(c->queue->json),
                                                 .timeout_usec = 60 * USEC_PER_SEC, .ca_file = b->certificate },
                                on_delivered, c) < 0)
                c->in_flight = false;
}

/* Whether updates of @kind reach @b: those its allowed_updates names, or with none or an empty
 * list, every kind but chat_member, message_reaction and message_reaction_count. */
static bool update_allowed(Bot *b, const char *kind) {
        size_t n = json_object_is_type(b->allowed_updates, json_type_array) ? json_object_array_length(b->allowed_updates) : 0;

        if (n == 0)
                return !streq(kind, "chat_member") && !streq(kind, "message_reaction") &&
                       !streq(kind, "message_reaction_count");
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(b->allowed_updates, i)), kind))
                        return true;
        return false;
}

/* --- getUpdates ------------------------------------------------------------------------------- */

static int update_order(const void *a, const void *b) {
        int64_t x = (*(Update *const *) a)->update_id, y = (*(Update *const *) b)->update_id;
        return (x > y) - (x < y);
}

/* The updates waiting for @b, oldest first, at most @limit of them: a JSON array. */
static json_object *updates_json(Bot *b, int64_t limit) {
        size_t n = 0, k = 0;
        json_object *list = json_object_new_array();
        Update **all;

        for (Chat *c = b->chats; c; c = c->next)
                for (Update *u = c->queue; u; u = u->next)
                        n++;
        all = calloc(n + 1, sizeof *all);
        if (!all)
                return list;
        for (Chat *c = b->chats; c; c = c->next)
                for (Update *u = c->queue; u; u = u->next)
                        all[k++] = u;
        qsort(all, n, sizeof *all, update_order);
        for (k = 0; k < n && (int64_t) k < limit; k++) {
                json_object *u = NULL;
                if (json_parse(all[k]->json, strlen(all[k]->json), &u) == 0)
                        json_object_array_add(list, u);
        }
        free(all);
        return list;
}

/* Answers the getUpdates that waits, if one does. */
static void poll_answer(Bot *b, ApiReply r) {
        HttpExchange *x = b->poll;

        b->poll = NULL;
        b->poll_timer = sd_event_source_disable_unref(b->poll_timer);
        if (x)
                sandbox_answer(x, r);
        else
                json_object_put(r.json);
}

static int on_poll_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        poll_answer(userdata, tg_ok(json_object_new_array()));
        return 0;
}

/* A Bot API call held for its latency (--latency-ms): run and answered when its timer fires, or
 * dropped when the client goes first. */
typedef struct DelayedCall {
        Sandbox *sb;
        HttpExchange *x;
        char *token, *method;
        json_object *params;
        sd_event_source *timer;
        struct DelayedCall *next;
} DelayedCall;

static ApiReply telegram_run(Sandbox *sb, HttpExchange *x, json_object *params, const char *token,
                             const char *method);

static void delayed_free(DelayedCall *d) {
        Sandbox *sb = d->sb;

        for (DelayedCall **p = &sb->delayed; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        break;
                }
        sd_event_source_disable_unref(d->timer);
        json_object_put(d->params);
        free(d->token);
        free(d->method);
        free(d);
}

static int on_delayed(sd_event_source *src, uint64_t usec, void *userdata) {
        DelayedCall *d = userdata;
        ApiReply r;

        (void) src;
        (void) usec;
        r = telegram_run(d->sb, d->x, d->params, d->token, d->method);
        if (r.status != 0)
                sandbox_answer(d->x, r);
        delayed_free(d);
        return 0;
}

/* Holds the call for the latency, or not at all, at random: half the calls take a slow path,
 * the hardest case for a sender pacing calls to Telegram's limits. Returns false when it could not
 * be held (out of memory): then it runs at once. */
static bool delay_call(Sandbox *sb, const ApiRequest *req, const char *token, const char *method) {
        DelayedCall *d = calloc(1, sizeof *d);
        uint64_t wait = random() % 2 ? sb->limits.latency_usec : 0;

        if (!d)
                return false;
        *d = (DelayedCall) { .sb = sb, .x = req->x, .token = strdup(token), .method = strdup(method),
                             .params = json_object_get(req->params), .next = sb->delayed };
        sb->delayed = d;
        if (!d->token || !d->method ||
            sd_event_add_time_relative(sb->event, &d->timer, CLOCK_MONOTONIC, wait, 0, on_delayed, d) < 0) {
                delayed_free(d);
                return false;
        }
        return true;
}

void telegram_exchange_gone(Sandbox *sb, HttpExchange *x) {
        for (DelayedCall *d = sb->delayed, *next; d; d = next) {
                next = d->next;
                if (d->x == x)
                        delayed_free(d);
        }
        for (Bot *b = sb->bots; b; b = b->next)
                if (b->poll == x) {
                        b->poll = NULL;
                        b->poll_timer = sd_event_source_disable_unref(b->poll_timer);
                }
}

/* getUpdates: refused while a webhook is set; otherwise confirms what is below offset, answers
 * what waits, or holds the request for up to timeout seconds until something comes. */
static ApiReply get_updates(Bot *b, json_object *p, HttpExchange *x) {
        int64_t offset = 0, limit = 100, timeout = 0;
        json_object *allowed, *list;
        bool bad = false;

        if (b->webhook_url)
                return tg_error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                     "to delete the webhook first", 0);
        if ((param_string(p, "offset") && !param_int64(p, "offset", &offset)) ||
            (param_string(p, "limit") && !param_int64(p, "limit", &limit)) ||
            (param_string(p, "timeout") && !param_int64(p, "timeout", &timeout)))
                return tg_error(400, "Bad Request: wrong parameter in request", 0);
        limit = MIN(MAX(limit, (int64_t) 1), (int64_t) 100);
        timeout = MIN(MAX(timeout, (int64_t) 0), (int64_t) 50);
        allowed = param_json(p, "allowed_updates", &bad);
        if (bad) {
                json_object_put(allowed);
                return tg_error(400, "Bad Request: can't parse allowed updates", 0);
        }
        if (allowed) {
                json_object_put(b->allowed_updates);
                b->allowed_updates = allowed;
        }
        /* Everything below offset was received: it goes. */
        for (Chat *c = b->chats; c && offset > 0; c = c->next)
                while (c->queue && !c->in_flight && c->queue->update_id < offset)
                        update_pop(c);
        if (b->poll)
                poll_answer(b, tg_error(409, "Conflict: terminated by other getUpdates request; make sure that only one "
                                             "bot instance is running", 0));
        list = updates_json(b, limit);
        if (json_object_array_length(list) > 0 || timeout == 0 || !x)
                return tg_ok(list);
        json_object_put(list);
        b->poll = x;
        b->poll_limit = limit;
        (void) sd_event_add_time_relative(b->sb->event, &b->poll_timer, CLOCK_MONOTONIC,
                                          (uint64_t) timeout * USEC_PER_SEC, 0, on_poll_timeout, b);
        return (ApiReply) {};
}

/* Queues an update of @kind with @payload (taken) for @c; one of a kind @b does not want is
 * dropped, as Telegram drops it. A bot without a webhook gets it by getUpdates. */
static void enqueue_update(Bot *b, Chat *c, const char *kind, json_object *payload) {
        json_object *u;
        Update *up;

        if (!update_allowed(b, kind)) {
                json_object_put(payload);
                return;
        }
        u = json_object_new_object();
        up = calloc(1, sizeof *up);

        up->update_id = sandbox_next_update_id(b->sb);
        json_object_object_add(u, "update_id", json_object_new_int64(up->update_id));
        json_object_object_add(u, kind, payload);
        up->json = strdup(json_object_to_json_string_ext(u, JSON_C_TO_STRING_PLAIN));
        json_object_put(u);
        if (c->queue_tail)
                c->queue_tail->next = up;
        else
                c->queue = up;
        c->queue_tail = up;
        if (!b->webhook_url && b->poll)
                poll_answer(b, tg_ok(updates_json(b, b->poll_limit)));
        deliver(c);
}

static unsigned pending_updates(Bot *b) {
        unsigned n = 0;
        for (Chat *c = b->chats; c; c = c->next)
                for (Update *u = c->queue; u; u = u->next)
                        n++;
        return n;
}

/* --- what users do (control API) ---------------------------------------------------------------- */

/* The user @user writes to @b: a text, or @content (taken) as @kind. */
static int user_message(Sandbox *sb, Bot *b, int64_t user, const char *language, const char *text, const char *kind,
                        json_object *content, json_object **ret) {
        Chat *c;
        Message *m;

        c = chat_get(b, user, true);
        if (c->deactivated) {
                json_object_put(content);
                return -EPERM;
        }
        if (c->blocked)
                (void) telegram_user_sets(sb, b, user, "unblock");   /* writing to a bot restarts it */
        if (language) {
                free(c->language);
                c->language = strdup(language);
        }
        m = message_add(b, c, false, text, text ? user_entities(text) : NULL, NULL);
        m->kind = kind;
        m->content = content;
        enqueue_update(b, c, "message", message_json(b, c, m));
        *ret = json_object_new_object();
        json_object_object_add(*ret, "message_id", json_object_new_int64(m->message_id));
        json_object_object_add(*ret, "update_id", json_object_new_int64(sb->next_update_id - 1));
        return 0;
}

int telegram_user_says(Sandbox *sb, Bot *b, int64_t user, const char *text, const char *language, json_object **ret) {
        if (user == 0 || isempty(text) || tg_utf16_length(text) > 4096)
                return -EINVAL;
        return user_message(sb, b, user, language, text, NULL, NULL, ret);
}

int telegram_user_shares(Sandbox *sb, Bot *b, int64_t user, const char *what, json_object *params, json_object **ret) {
        json_object *o;

        if (user <= 0)
                return -EINVAL;
        if (streq(what, "contact")) {
                /* Their own, or (with "user_id") one from their contacts who is on Telegram. */
                const char *phone = json_get_string(params, "phone_number");
                int64_t whose = user;
                char name[32];
                if (isempty(phone) || (json_object_object_get_ex(params, "user_id", NULL) &&
                                       (json_get_int64(params, "user_id", &whose) < 0 || whose <= 0)))
                        return -EINVAL;
                snprintf(name, sizeof name, "User%" PRIi64, whose);
                o = json_object_new_object();
                json_object_object_add(o, "phone_number", json_object_new_string(phone));
                json_object_object_add(o, "first_name", json_object_new_string(name));
                json_object_object_add(o, "user_id", json_object_new_int64(whose));
        } else if (streq(what, "location")) {
                ApiReply e = {};
                o = location_param(params, &e);
                if (!o) {
                        json_object_put(e.json);
                        return -EINVAL;
                }
        } else
                return -EOPNOTSUPP;
        return user_message(sb, b, user, NULL, NULL, streq(what, "contact") ? "contact" : "location", o, ret);
}

/* my_chat_member: the bot's membership in the user's chat went from @old to @new. */
static json_object *member_update(Bot *b, Chat *c, const char *old, const char *new) {
        json_object *o = json_object_new_object(), *before = json_object_new_object(), *after = json_object_new_object();

        json_object_object_add(o, "chat", chat_json(c->id));
        json_object_object_add(o, "from", user_json(c->id, c->language));
        json_object_object_add(o, "date", json_object_new_int64((int64_t) time(NULL)));
        json_object_object_add(before, "user", telegram_bot_info(b));
        json_object_object_add(before, "status", json_object_new_string(old));
        json_object_object_add(after, "user", telegram_bot_info(b));
        json_object_object_add(after, "status", json_object_new_string(new));
        if (streq(new, "kicked"))
                json_object_object_add(after, "until_date", json_object_new_int(0));
        json_object_object_add(o, "old_chat_member", before);
        json_object_object_add(o, "new_chat_member", after);
        return o;
}

int telegram_user_sets(Sandbox *sb, Bot *b, int64_t user, const char *what) {
        Chat *c = user > 0 ? chat_get(b, user, true) : NULL;

        if (!c)
                return -EINVAL;
        if (streq(what, "block") || streq(what, "unblock")) {
                bool block = streq(what, "block");
                if (c->deactivated)
                        return -EPERM;
                if (c->blocked != block) {
                        c->blocked = block;
                        enqueue_update(b, c, "my_chat_member",
                                       member_update(b, c, block ? "member" : "kicked", block ? "kicked" : "member"));
                }
                return 0;
        }
        if (streq(what, "deactivate")) {
                c->deactivated = true;
                return 0;
        }
        return -EOPNOTSUPP;
}

/* A service message of @c (from a member) holding only @key: @value. */
static void service_message(Bot *b, Chat *c, const char *key, int64_t value) {
        json_object *o = json_object_new_object();
        Message *m = message_add(b, c, false, NULL, NULL, NULL);

        json_object_object_add(o, "message_id", json_object_new_int64(m->message_id));
        json_object_object_add(o, "from", user_json(1, NULL));
        json_object_object_add(o, "chat", chat_json(c->id));
        json_object_object_add(o, "date", json_object_new_int64(m->date));
        json_object_object_add(o, key, json_object_new_int64(value));
        enqueue_update(b, c, "message", o);
}

int telegram_chat_migrate(Sandbox *sb, Bot *b, int64_t group, json_object **ret) {
        Chat *c = group < 0 && group > -SUPERGROUP_BASE ? chat_get(b, group, false) : NULL;
        Chat *to;
        (void) sb;

        if (!c)
                return -EINVAL;
        if (c->migrated_to)
                return -EBUSY;
        c->migrated_to = -SUPERGROUP_BASE + group;
        to = chat_get(b, c->migrated_to, true);
        service_message(b, c, "migrate_to_chat_id", to->id);
        service_message(b, to, "migrate_from_chat_id", c->id);
        *ret = json_object_new_object();
        json_object_object_add(*ret, "migrate_to_chat_id", json_object_new_int64(to->id));
        return 0;
}

/* The last bot message with an inline button labelled @label, or numbered @label (1-based, as
 * the terminal chat shows them). */
static json_object *find_button(Chat *c, const char *label, Message **ret_msg) {
        json_object *found = NULL;
        char *end;
        long want = strtol(label, &end, 10);
        bool numbered = *end == 0 && want > 0;

        for (Message *m = c->messages; m; m = m->next) {
                json_object *rows;
                long n = 0;
                if (m->deleted || !m->from_bot || !m->reply_markup ||
                    !json_object_object_get_ex(m->reply_markup, "inline_keyboard", &rows))
                        continue;
                if (numbered)
                        found = NULL;  /* numbers refer to the last keyboard only */
                for (size_t i = 0; i < json_object_array_length(rows); i++) {
                        json_object *row = json_object_array_get_idx(rows, i);
                        for (size_t j = 0; j < json_object_array_length(row); j++) {
                                json_object *btn = json_object_array_get_idx(row, j);
                                n++;
                                if ((numbered && n == want) ||
                                    (!numbered && streq_ptr(json_get_string(btn, "text"), label))) {
                                        found = btn;
                                        *ret_msg = m;
                                }
                        }
                }
        }
        return found;
}

/* The @index-th (1-based, row by row) inline button of message @id of @c. */
static json_object *button_at(Chat *c, int64_t id, int64_t index, Message **ret_msg) {
        Message *m = message_find(c, id);
        json_object *rows;
        int64_t n = 0;

        if (!m || !m->from_bot || !m->reply_markup || !json_object_object_get_ex(m->reply_markup, "inline_keyboard", &rows))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                for (size_t j = 0; j < json_object_array_length(row); j++)
                        if (++n == index) {
                                *ret_msg = m;
                                return json_object_array_get_idx(row, j);
                        }
        }
        return NULL;
}

int telegram_user_presses(Sandbox *sb, Bot *b, int64_t user, const char *label, int64_t message_id, int64_t index,
                          const char *forged_data, json_object **ret) {
        Chat *c = chat_get(b, user, false);
        Message *m = NULL;
        json_object *btn, *cq;
        const char *data, *url;
        CallbackQuery *q;

        if (!c)
                return -ENOENT;
        if (forged_data) {
                /* A modified client: Telegram passes on whatever data it sends for a message. */
                for (Message *x = c->messages; x; x = x->next)
                        if (!x->deleted && x->from_bot && (message_id <= 0 || x->message_id == message_id))
                                m = x;
                if (!m)
                        return -ENOENT;
                data = forged_data;
                *ret = json_object_new_object();
        } else {
                btn = message_id > 0 ? button_at(c, message_id, index, &m) : find_button(c, label, &m);
                if (!btn)
                        return -ENOENT;
                *ret = json_object_new_object();
                if ((url = json_get_string(btn, "url"))) {
                        json_object_object_add(*ret, "url", json_object_new_string(url));
                        return 0;
                }
                data = json_get_string(btn, "callback_data");
                if (!data)
                        return -EOPNOTSUPP;
        }
        q = calloc(1, sizeof *q);
        snprintf(q->id, sizeof q->id, "%" PRIi64 "%06ld", b->id % 100000, random() % 1000000);
        q->next = b->queries;
        b->queries = q;
        cq = json_object_new_object();
        json_object_object_add(cq, "id", json_object_new_string(q->id));
        json_object_object_add(cq, "from", user_json(user, c->language));
        json_object_object_add(cq, "message", message_json(b, c, m));
        json_object_object_add(cq, "chat_instance", json_object_new_string("-1"));
        json_object_object_add(cq, "data", json_object_new_string(data));
        enqueue_update(b, c, "callback_query", cq);
        json_object_object_add(*ret, "callback_query_id", json_object_new_string(q->id));
        json_object_object_add(*ret, "update_id", json_object_new_int64(sb->next_update_id - 1));
        return 0;
}

json_object *telegram_callback_answer(Bot *b, const char *id) {
        for (CallbackQuery *q = b->queries; q; q = q->next)
                if (streq(q->id, id)) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "answered", json_object_new_boolean(q->answered));
                        json_object_object_add(o, "text", q->answer_text ? json_object_new_string(q->answer_text) : NULL);
                        json_object_object_add(o, "alert", json_object_new_boolean(q->alert));
                        return o;
                }
        return NULL;
}

json_object *telegram_chat_messages(Bot *b, int64_t chat) {
        Chat *c = chat_get(b, chat, false);
        json_object *list = json_object_new_array();

        for (Message *m = c ? c->messages : NULL; m; m = m->next) {
                json_object *o;
                if (m->deleted)
                        continue;
                o = json_object_new_object();
                json_object_object_add(o, "message_id", json_object_new_int64(m->message_id));
                json_object_object_add(o, "from", json_object_new_string(m->from_bot ? "bot" : "user"));
                json_object_object_add(o, "text", json_object_new_string(strempty(m->text)));
                if (m->entities)
                        json_object_object_add(o, "entities", json_object_get(m->entities));
                char *html = tg_text_html(strempty(m->text), m->entities);
                json_object_object_add(o, "html", html ? json_object_new_string(html) : NULL);
                free(html);
                if (m->kind)
                        json_object_object_add(o, m->kind, json_object_get(m->content));
                json_object_object_add(o, "at_usec", json_object_new_int64((int64_t) m->at_usec));
                if (m->reply_markup)
                        json_object_object_add(o, "reply_markup", json_object_get(m->reply_markup));
                json_object_array_add(list, o);
        }
        return list;
}

/* --- Bot API methods ------------------------------------------------------------------------------ */

static bool is_local(const char *host) {
        return startswith(host, "127.") || startswith(host, "localhost") || startswith(host, "[::1]");
}

/* A webhook URL as Telegram takes it: https:// on port 443, 80, 88 or 8443; or, when the sandbox
 * was started with --allow-local-http, http:// or https:// to this machine on any port. Returns
 * NULL or the description of the refusal. */
static const char *webhook_url_check(const Sandbox *sb, const char *url) {
        const char *rest = startswith(url, "https://"), *host_end, *port;
        long p = 443;

        if (!rest) {
                rest = startswith(url, "http://");
                if (rest && sb->allow_local_http && is_local(rest))
                        return NULL;
                return "Bad Request: bad webhook: An HTTPS URL must be provided for webhook";
        }
        if (sb->allow_local_http && is_local(rest))
                return NULL;   /* a test's own TLS server on a port of its own */
        host_end = rest + strcspn(rest, "/?#");
        if (host_end == rest)
                return "Bad Request: bad webhook: Wrong HTTP URL";
        port = memrchr(rest, ':', (size_t) (host_end - rest));
        if (port && !memchr(port, ']', (size_t) (host_end - port))) {
                char *end;
                p = strtol(port + 1, &end, 10);
                if (end != host_end)
                        return "Bad Request: bad webhook: Wrong port number specified in the URL";
        }
        if (p != 443 && p != 80 && p != 88 && p != 8443)
                return "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443";
        return NULL;
}

/* Writes the PEM @text to a file of its own for deliveries to trust; returns its path, or NULL. */
static char *certificate_keep(Bot *b, const char *text) {
        char *path = NULL;
        int fd;

        if (!text || asprintf(&path, "%s/tgfleet-sandbox-%" PRIi64 "-XXXXXX.pem", getenv("TMPDIR") ?: "/tmp", b->id) < 0)
                return NULL;
        fd = mkstemps(path, 4);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
                if (fd >= 0) {
                        close(fd);
                        (void) unlink(path);
                }
                return mfree(path);
        }
        close(fd);
        return path;
}

static ApiReply set_webhook(Bot *b, json_object *p) {
        const char *url = param_string(p, "url"), *secret = param_string(p, "secret_token"), *e;
        bool bad = false;
        json_object *allowed, *cert;

        if (!url)
                return tg_error(400, "Bad Request: bad webhook: URL must be provided", 0);
        if (secret && (strlen(secret) < 1 || strlen(secret) > 256 ||
                       strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(secret)))
                return tg_error(400, "Bad Request: secret token contains unallowed characters", 0);
        if (*url && (e = webhook_url_check(b->sb, url)))
                return tg_error(400, e, 0);
        allowed = param_json(p, "allowed_updates", &bad);
        if (bad) {
                json_object_put(allowed);
                return tg_error(400, "Bad Request: can't parse allowed updates", 0);
        }
        int64_t max_connections = 40;
        if (param_string(p, "max_connections") && !param_int64(p, "max_connections", &max_connections))
                return tg_error(400, "Bad Request: bad webhook: invalid max_connections", 0);
        if (*url && b->poll)
                poll_answer(b, tg_error(409, "Conflict: terminated by setWebhook request", 0));
        b->max_connections = MIN(MAX(max_connections, (int64_t) 1), (int64_t) 100);
        free(b->webhook_url);
        free(b->secret);
        b->webhook_url = *url ? strdup(url) : NULL;
        b->secret = secret ? strdup(secret) : NULL;
        /* A certificate is an upload; Telegram then trusts that self-signed one for the URL. */
        if (b->certificate)
                (void) unlink(b->certificate);
        b->certificate = mfree(b->certificate);
        if (*url && json_object_object_get_ex(p, "certificate", &cert) && json_object_is_type(cert, json_type_object))
                b->certificate = certificate_keep(b, json_get_string(cert, "content"));
        if (allowed) {
                json_object_put(b->allowed_updates);
                b->allowed_updates = allowed;
        }
        for (Chat *c = b->chats; c; c = c->next) {
                if (streq_ptr(param_string(p, "drop_pending_updates"), "true"))
                        while (c->queue && !c->in_flight)
                                update_pop(c);
                deliver(c);
        }
        ApiReply r = tg_ok(json_object_new_boolean(true));
        json_object_object_add(r.json, "description", json_object_new_string(*url ? "Webhook was set" : "Webhook was deleted"));
        return r;
}

static ApiReply webhook_info(Bot *b) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "url", json_object_new_string(strempty(b->webhook_url)));
        json_object_object_add(o, "has_custom_certificate", json_object_new_boolean(b->certificate != NULL));
        json_object_object_add(o, "pending_update_count", json_object_new_int((int) pending_updates(b)));
        if (b->last_error_message) {
                json_object_object_add(o, "last_error_date", json_object_new_int64(b->last_error_date));
                json_object_object_add(o, "last_error_message", json_object_new_string(b->last_error_message));
        }
        json_object_object_add(o, "max_connections", json_object_new_int64(b->max_connections ?: 40));
        if (b->allowed_updates)
                json_object_object_add(o, "allowed_updates", json_object_get(b->allowed_updates));
        return tg_ok(o);
}

/* chat_id as a known chat of @b; Telegram answers "chat not found" for chats that never wrote. */
static ApiReply resolve_chat(Bot *b, json_object *p, Chat **ret) {
        int64_t id;

        if (!param_int64(p, "chat_id", &id))
                return tg_error(400, "Bad Request: chat_id is empty", 0);
        *ret = chat_get(b, id, false);
        if (!*ret)
                return tg_error(400, "Bad Request: chat not found", 0);
        if ((*ret)->deactivated)
                return tg_error(403, "Forbidden: user is deactivated", 0);
        if ((*ret)->blocked)
                return tg_error(403, "Forbidden: bot was blocked by the user", 0);
        if ((*ret)->migrated_to) {
                ApiReply e = tg_error(400, "Bad Request: group chat was upgraded to a supergroup chat", 0);
                json_object *params = json_object_new_object();
                json_object_object_add(params, "migrate_to_chat_id", json_object_new_int64((*ret)->migrated_to));
                json_object_object_add(e.json, "parameters", params);
                return e;
        }
        return (ApiReply) {};
}

/* Whether @url is one Telegram takes for a URL button: http://, https:// or tg:// with a host. */
static bool button_url_valid(const char *url) {
        const char *rest = startswith(url, "https://");

        if (!rest)
                rest = startswith(url, "http://");
        if (!rest)
                rest = startswith(url, "tg://");
        return rest && *rest && !strchr(" \t\r\n", *rest) && strcspn(url, " \t\r\n") == strlen(url);
}

/* How many of @keys @o has. */
static unsigned count_members(json_object *o, const char *const *keys) {
        unsigned n = 0;

        for (; *keys; keys++)
                n += json_object_object_get_ex(o, *keys, NULL);
        return n;
}

/* Whether @rows is an array of arrays (the shape of both keyboards). */
static bool rows_valid(json_object *rows) {
        if (!json_object_is_type(rows, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(rows); i++)
                if (!json_object_is_type(json_object_array_get_idx(rows, i), json_type_array))
                        return false;
        return true;
}

/* An inline button: a text and exactly one action; callback_data of 1–64 bytes; a valid URL.
 * Returns NULL, or Telegram's description of what is wrong (static, or in @buf). */
static const char *inline_button_check(json_object *btn, char *buf, size_t size) {
        static const char *const actions[] = { "url", "callback_data", "web_app", "login_url", "switch_inline_query",
                                               "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                                               "copy_text", "callback_game", "pay", NULL };
        const char *data = json_get_string(btn, "callback_data"), *url = json_get_string(btn, "url");
        unsigned n;

        if (!json_object_is_type(btn, json_type_object) || isempty(json_get_string(btn, "text")))
                return "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String";
        n = count_members(btn, actions);
        if (n == 0)
                return "Bad Request: text buttons are unallowed in the inline keyboard";
        if (n > 1)
                return "Bad Request: can't parse inline keyboard button: exactly one of the optional fields must be used";
        if (json_object_object_get_ex(btn, "callback_data", NULL) && (!data || strlen(data) < 1 || strlen(data) > 64))
                return "Bad Request: BUTTON_DATA_INVALID";
        if (json_object_object_get_ex(btn, "url", NULL) && (!url || !button_url_valid(url))) {
                snprintf(buf, size, "Bad Request: inline keyboard button URL '%.200s' is invalid: Wrong HTTP URL",
                         strempty(url));
                return buf;
        }
        return NULL;
}

/* A reply keyboard's button: a string, or an object with a text and at most one request. */
static const char *keyboard_button_check(json_object *btn) {
        static const char *const requests[] = { "request_users", "request_chat", "request_contact", "request_location",
                                                "request_poll", "web_app", NULL };

        if (json_object_is_type(btn, json_type_string) && json_object_get_string_len(btn) > 0)
                return NULL;
        if (!json_object_is_type(btn, json_type_object) || isempty(json_get_string(btn, "text")))
                return "Bad Request: can't parse keyboard button: Field \"text\" must be of type String";
        if (count_members(btn, requests) > 1)
                return "Bad Request: can't parse keyboard button: only one of the optional fields can be used";
        return NULL;
}

/* reply_markup as Telegram checks it: exactly one of inline_keyboard, keyboard, remove_keyboard
 * (true) and force_reply (true), each keyboard an array of rows of valid buttons. */
static const char *markup_check(json_object *m, char *buf, size_t size) {
        static const char *const kinds[] = { "inline_keyboard", "keyboard", "remove_keyboard", "force_reply", NULL };
        static const char *const parse = "Bad Request: can't parse reply keyboard markup JSON object";
        json_object *rows, *flag;
        const char *why;

        if (!json_object_is_type(m, json_type_object) || count_members(m, kinds) != 1)
                return parse;
        if (json_object_object_get_ex(m, "remove_keyboard", &flag) || json_object_object_get_ex(m, "force_reply", &flag))
                return json_object_is_type(flag, json_type_boolean) && json_object_get_boolean(flag) ? NULL : parse;
        if (json_object_object_get_ex(m, "inline_keyboard", &rows)) {
                if (!rows_valid(rows))
                        return parse;
                for (size_t i = 0; i < json_object_array_length(rows); i++) {
                        json_object *row = json_object_array_get_idx(rows, i);
                        for (size_t j = 0; j < json_object_array_length(row); j++)
                                if ((why = inline_button_check(json_object_array_get_idx(row, j), buf, size)))
                                        return why;
                }
                return NULL;
        }
        json_object_object_get_ex(m, "keyboard", &rows);
        if (!rows_valid(rows) || json_object_array_length(rows) == 0)
                return parse;
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                for (size_t j = 0; j < json_object_array_length(row); j++)
                        if ((why = keyboard_button_check(json_object_array_get_idx(row, j))))
                                return why;
        }
        return NULL;
}

static ApiReply markup_param(json_object *p, json_object **ret) {
        bool bad = false;
        json_object *m = param_json(p, "reply_markup", &bad);
        const char *why;
        char buf[320];

        *ret = NULL;
        if (bad)
                return tg_error(400, "Bad Request: can't parse reply keyboard markup JSON object", 0);
        if (m && (why = markup_check(m, buf, sizeof buf))) {
                ApiReply e = tg_error(400, why, 0);
                json_object_put(m);
                return e;
        }
        *ret = m;
        return (ApiReply) {};
}

/* The message text of @p as a user will see it: "text" with "parse_mode" applied (or the
 * "entities" given), 1-4096 UTF-16 units once parsed and trimmed. On success *@ret_text and
 * *@ret_entities are the caller's. */
static ApiReply text_param(json_object *p, char **ret_text, json_object **ret_entities) {
        const char *text = param_string(p, "text");
        char error[512];
        json_object *given;
        bool bad = false;
        int r;

        if (!text)
                return tg_error(400, "Bad Request: message text is empty", 0);
        r = tg_text_parse(param_string(p, "parse_mode"), text, ret_text, ret_entities, error, sizeof error);
        if (r == -ENOMEM)
                return tg_error(500, "Internal Server Error", 0);
        if (r < 0)
                return tg_error(400, error, 0);
        if (isempty(*ret_text) || tg_utf16_length(*ret_text) > 4096) {
                bool empty = isempty(*ret_text);
                *ret_text = mfree(*ret_text);
                *ret_entities = (json_object_put(*ret_entities), NULL);
                return tg_error(400, empty ? "Bad Request: message text is empty" : "Bad Request: message is too long", 0);
        }
        /* Entities given instead of a parse mode are taken as they are. */
        given = isempty(param_string(p, "parse_mode")) ? param_json(p, "entities", &bad) : NULL;
        if (bad || (given && !json_object_is_type(given, json_type_array))) {
                json_object_put(given);
                *ret_text = mfree(*ret_text);
                *ret_entities = (json_object_put(*ret_entities), NULL);
                return tg_error(400, "Bad Request: can't parse entities JSON object", 0);
        }
        if (given) {
                json_object_put(*ret_entities);
                *ret_entities = given;
        }
        return (ApiReply) {};
}

/* Sends a new message of @b to the chat of @p, with the reply_markup of @p, under Telegram's
 * flood limits: @text with its @entities, or @content as @kind instead (each taken, NULL when not
 * there). */
static ApiReply send_new(Bot *b, json_object *p, char *text, json_object *entities, const char *kind,
                         json_object *content, bool caption, Message **ret) {
        json_object *markup = NULL;
        Message *m;
        Chat *c;
        ApiReply e;
        int wait;

        if ((e = resolve_chat(b, p, &c)).json || (e = markup_param(p, &markup)).json)
                goto fail;
        wait = flood_check(b->sb, b, c);
        if (wait > 0) {
                char d[80];
                snprintf(d, sizeof d, "Too Many Requests: retry after %d", wait);
                b->too_many++;
                json_object_put(markup);
                e = tg_error(429, d, wait);
                goto fail;
        }
        b->sent++;
        m = message_add(b, c, true, text, entities, markup);
        free(text);
        m->kind = kind;
        m->content = content;
        m->caption = caption;
        if (ret)
                *ret = m;
        return tg_ok(message_json(b, c, m));
fail:
        free(text);
        json_object_put(entities);
        json_object_put(content);
        return e;
}

static ApiReply send_message(Bot *b, json_object *p) {
        json_object *entities;
        char *text;
        ApiReply e;

        if ((e = text_param(p, &text, &entities)).json)
                return e;
        return send_new(b, p, text, entities, NULL, NULL, false, NULL);
}

/* chat_id and message_id as a live message of @b; @missing is Telegram's text when there is none. */
static ApiReply resolve_message(Bot *b, json_object *p, const char *missing, Chat **ret_chat, Message **ret) {
        int64_t id;
        ApiReply e;

        if ((e = resolve_chat(b, p, ret_chat)).json)
                return e;
        if (!param_int64(p, "message_id", &id) || !(*ret = message_find(*ret_chat, id)))
                return tg_error(400, missing, 0);
        return (ApiReply) {};
}

static ApiReply edit_message(Bot *b, json_object *p, bool text_too) {
        json_object *markup, *entities = NULL;
        char *text = NULL;
        Message *m;
        Chat *c;
        ApiReply e;

        if ((e = resolve_message(b, p, "Bad Request: message to edit not found", &c, &m)).json)
                return e;
        if (!m->from_bot)
                return tg_error(400, "Bad Request: message can't be edited", 0);
        if (text_too && (!m->text || m->caption))
                return tg_error(400, "Bad Request: there is no text in the message to edit", 0);
        if ((e = markup_param(p, &markup)).json)
                return e;
        /* An edited message keeps an inline keyboard or none. */
        if (markup && !json_object_object_get_ex(markup, "inline_keyboard", NULL)) {
                json_object_put(markup);
                return tg_error(400, "Bad Request: inline keyboard expected", 0);
        }
        if (text_too && (e = text_param(p, &text, &entities)).json) {
                json_object_put(markup);
                return e;
        }
        if (entities && json_object_array_length(entities) == 0)
                entities = (json_object_put(entities), NULL);
        bool same_text = !text_too || (streq_ptr(text, m->text) && ((!entities && !m->entities) ||
                                       (entities && m->entities && json_object_equal(entities, m->entities))));
        bool same_markup = (!markup && !m->reply_markup) ||
                           (markup && m->reply_markup && json_object_equal(markup, m->reply_markup));
        if (same_text && same_markup) {
                json_object_put(markup);
                json_object_put(entities);
                free(text);
                return tg_error(400, "Bad Request: message is not modified: specified new message content and reply "
                                     "markup are exactly the same as a current content and reply markup of the message", 0);
        }
        if (text_too) {
                free(m->text);
                m->text = text;
                json_object_put(m->entities);
                m->entities = entities;
        }
        json_object_put(m->reply_markup);
        m->reply_markup = markup;
        return tg_ok(message_json(b, c, m));
}

static ApiReply answer_callback(Bot *b, json_object *p) {
        const char *id = param_string(p, "callback_query_id");

        for (CallbackQuery *q = b->queries; q && id; q = q->next)
                if (streq(q->id, id) && !q->answered) {
                        q->answered = true;
                        q->answer_text = param_string(p, "text") ? strdup(param_string(p, "text")) : NULL;
                        q->alert = streq_ptr(param_string(p, "show_alert"), "true");
                        return tg_ok(json_object_new_boolean(true));
                }
        return tg_error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0);
}

static ApiReply delete_message(Bot *b, json_object *p) {
        Message *m;
        Chat *c;
        ApiReply e;

        if ((e = resolve_message(b, p, "Bad Request: message to delete not found", &c, &m)).json)
                return e;
        m->deleted = true;
        return tg_ok(json_object_new_boolean(true));
}

/* --- more methods ------------------------------------------------------------------------------ */

static ApiReply get_me(Bot *b, json_object *p) {
        (void) p;
        return tg_ok(telegram_bot_info(b));
}

static ApiReply delete_webhook(Bot *b, json_object *p) {
        json_object *w = json_object_new_object();
        ApiReply r;

        json_object_object_add(w, "url", json_object_new_string(""));
        if (param_string(p, "drop_pending_updates"))
                json_object_object_add(w, "drop_pending_updates", json_object_new_string(param_string(p, "drop_pending_updates")));
        r = set_webhook(b, w);
        json_object_put(w);
        return r;
}

static ApiReply get_webhook_info(Bot *b, json_object *p) {
        (void) p;
        return webhook_info(b);
}

static ApiReply edit_text(Bot *b, json_object *p) {
        return edit_message(b, p, true);
}

static ApiReply edit_markup(Bot *b, json_object *p) {
        return edit_message(b, p, false);
}

static ApiReply send_chat_action(Bot *b, json_object *p) {
        static const char *const actions[] = {
                "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
        };
        const char *action = param_string(p, "action");
        Chat *c;
        ApiReply e;

        if ((e = resolve_chat(b, p, &c)).json)
                return e;
        for (size_t i = 0; action && i < ELEMENTSOF(actions); i++)
                if (streq(action, actions[i]))
                        return tg_ok(json_object_new_boolean(true));
        return tg_error(400, "Bad Request: wrong parameter action in request", 0);
}

/* Where a command list lives: its scope's type (and chat), and its language. */
static void commands_key(json_object *p, char *buf, size_t size) {
        bool bad = false;
        json_object *scope = param_json(p, "scope", &bad);
        const char *type = scope ? json_get_string(scope, "type") : NULL;
        int64_t chat = 0;

        if (scope)
                (void) json_get_int64(scope, "chat_id", &chat);
        snprintf(buf, size, "%s:%" PRId64 "/%s", type ?: "default", chat, strempty(param_string(p, "language_code")));
        json_object_put(scope);
}

static ApiReply set_my_commands(Bot *b, json_object *p) {
        bool bad = false;
        json_object *list = param_json(p, "commands", &bad), *kept;
        char key[128];
        size_t n;

        if (bad || (list && !json_object_is_type(list, json_type_array))) {
                json_object_put(list);
                return tg_error(400, "Bad Request: can't parse commands JSON object", 0);
        }
        n = list ? json_object_array_length(list) : 0;
        if (n > 100) {
                json_object_put(list);
                return tg_error(400, "Bad Request: BOT_COMMANDS_TOO_MUCH", 0);
        }
        kept = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(list, i), *o;
                const char *command = json_get_string(c, "command"), *description = json_get_string(c, "description");
                const char *why = NULL;
                if (!command || !*command)
                        why = "Bad Request: command must be non-empty";
                else if (strlen(command) > 32)
                        why = "Bad Request: command length must not exceed 32";
                else if (strspn(command, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(command))
                        why = "Bad Request: BOT_COMMAND_INVALID";
                else if (!description || !*description)
                        why = "Bad Request: command description must be non-empty";
                else if (tg_utf16_length(description) > 256)
                        why = "Bad Request: command description length must not exceed 256";
                if (why) {
                        json_object_put(list);
                        json_object_put(kept);
                        return tg_error(400, why, 0);
                }
                o = json_object_new_object();
                json_object_object_add(o, "command", json_object_new_string(command));
                json_object_object_add(o, "description", json_object_new_string(description));
                json_object_array_add(kept, o);
        }
        json_object_put(list);
        if (!b->commands)
                b->commands = json_object_new_object();
        commands_key(p, key, sizeof key);
        json_object_object_add(b->commands, key, kept);
        return tg_ok(json_object_new_boolean(true));
}

static ApiReply get_my_commands(Bot *b, json_object *p) {
        json_object *list;
        char key[128];

        commands_key(p, key, sizeof key);
        if (!b->commands || !json_object_object_get_ex(b->commands, key, &list))
                return tg_ok(json_object_new_array());
        return tg_ok(json_object_get(list));
}

static ApiReply delete_my_commands(Bot *b, json_object *p) {
        char key[128];

        commands_key(p, key, sizeof key);
        if (b->commands)
                json_object_object_del(b->commands, key);
        return tg_ok(json_object_new_boolean(true));
}

static ApiReply get_chat(Bot *b, json_object *p) {
        int64_t id;
        Chat *c;
        json_object *o;

        if (!param_int64(p, "chat_id", &id))
                return tg_error(400, "Bad Request: chat_id is empty", 0);
        if (!(c = chat_get(b, id, false)) || c->deactivated)
                return tg_error(400, "Bad Request: chat not found", 0);
        o = chat_json(c->id);
        json_object_object_add(o, "accent_color_id", json_object_new_int(0));
        json_object_object_add(o, "max_reaction_count", json_object_new_int(11));
        return tg_ok(o);
}

/* A number parameter within [@min, @max]. */
static bool param_double(json_object *p, const char *key, double min, double max, double *ret) {
        json_object *v;
        const char *s;
        char *end;

        if (!json_object_object_get_ex(p, key, &v))
                return false;
        if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
                *ret = json_object_get_double(v);
        else if ((s = json_object_get_string(v)) && *s) {
                *ret = strtod(s, &end);
                if (*end)
                        return false;
        } else
                return false;
        return isfinite(*ret) && *ret >= min && *ret <= max;
}

static json_object *location_param(json_object *p, ApiReply *error) {
        double latitude, longitude;
        json_object *o;

        if (!param_double(p, "latitude", -90, 90, &latitude)) {
                *error = tg_error(400, "Bad Request: wrong latitude", 0);
                return NULL;
        }
        if (!param_double(p, "longitude", -180, 180, &longitude)) {
                *error = tg_error(400, "Bad Request: wrong longitude", 0);
                return NULL;
        }
        o = json_object_new_object();
        json_object_object_add(o, "latitude", json_object_new_double(latitude));
        json_object_object_add(o, "longitude", json_object_new_double(longitude));
        return o;
}

static ApiReply send_location(Bot *b, json_object *p) {
        ApiReply e = {};
        json_object *location = location_param(p, &e);

        return location ? send_new(b, p, NULL, NULL, "location", location, false, NULL) : e;
}

static ApiReply send_venue(Bot *b, json_object *p) {
        const char *title = param_string(p, "title"), *address = param_string(p, "address");
        ApiReply e = {};
        json_object *location = location_param(p, &e), *venue;

        if (!location)
                return e;
        if (isempty(title) || isempty(address)) {
                json_object_put(location);
                return tg_error(400, isempty(title) ? "Bad Request: venue title is empty" : "Bad Request: venue address is empty", 0);
        }
        venue = json_object_new_object();
        json_object_object_add(venue, "location", location);
        json_object_object_add(venue, "title", json_object_new_string(title));
        json_object_object_add(venue, "address", json_object_new_string(address));
        return send_new(b, p, NULL, NULL, "venue", venue, false, NULL);
}

static ApiReply send_contact(Bot *b, json_object *p) {
        const char *phone = param_string(p, "phone_number"), *name = param_string(p, "first_name");
        json_object *contact;

        if (isempty(phone))
                return tg_error(400, "Bad Request: phone number is empty", 0);
        if (isempty(name))
                return tg_error(400, "Bad Request: contact's first name is empty", 0);
        contact = json_object_new_object();
        json_object_object_add(contact, "phone_number", json_object_new_string(phone));
        json_object_object_add(contact, "first_name", json_object_new_string(name));
        if (param_string(p, "last_name"))
                json_object_object_add(contact, "last_name", json_object_new_string(param_string(p, "last_name")));
        return send_new(b, p, NULL, NULL, "contact", contact, false, NULL);
}

/* --- files ---------------------------------------------------------------------------------------- */

static File *file_find(Bot *b, const char *id) {
        for (File *f = b->files; f; f = f->next)
                if (streq(f->id, id))
                        return f;
        return NULL;
}

/* A new file of @kind, described by @info (taken). */
static File *file_add(Bot *b, const char *kind, json_object *info) {
        File *f = calloc(1, sizeof *f);

        if (!f) {
                json_object_put(info);
                return NULL;
        }
        b->next_file++;
        snprintf(f->id, sizeof f->id, "%s-%" PRId64 "-%u-AgACAgIAAxkBAAI", kind, b->id, b->next_file);
        snprintf(f->unique_id, sizeof f->unique_id, "AQAD%08x", b->next_file);
        f->kind = kind;
        f->info = info;
        f->next = b->files;
        b->files = f;
        return f;
}

/* The file the @key parameter of @p sends, as @kind ("photo", "document"): an upload (the part
 * itself, or "attach://<part>"), a file_id the bot sent before, or an http(s) URL Telegram would
 * fetch. */
static ApiReply input_file(Bot *b, json_object *p, const char *kind, File **ret) {
        json_object *v, *info;
        const char *s, *attach;
        char missing[64];

        snprintf(missing, sizeof missing, "Bad Request: there is no %s in the request", kind);
        if (!json_object_object_get_ex(p, kind, &v))
                return tg_error(400, missing, 0);
        if (json_object_is_type(v, json_type_string) && (attach = startswith(json_object_get_string(v), "attach://")) &&
            !json_object_object_get_ex(p, attach, &v))
                return tg_error(400, missing, 0);
        if (json_object_is_type(v, json_type_object)) {
                json_object *image;
                if (streq(kind, "photo") && !(json_object_object_get_ex(v, "is_image", &image) && json_object_get_boolean(image)))
                        return tg_error(400, "Bad Request: IMAGE_PROCESS_FAILED", 0);
                info = json_object_new_object();
                json_object_object_foreach(v, key, value)
                        if (!streq(key, "is_image"))
                                json_object_object_add(info, key, json_object_get(value));
                *ret = file_add(b, kind, info);
                return *ret ? (ApiReply) {} : tg_error(500, "Internal Server Error", 0);
        }
        s = json_object_get_string(v);
        if (isempty(s))
                return tg_error(400, missing, 0);
        if (startswith(s, "http://") || startswith(s, "https://")) {
                info = json_object_new_object();
                json_object_object_add(info, "file_size", json_object_new_int(0));
                *ret = file_add(b, kind, info);
                return *ret ? (ApiReply) {} : tg_error(500, "Internal Server Error", 0);
        }
        *ret = file_find(b, s);
        if (!*ret || !streq((*ret)->kind, kind))
                return tg_error(400, "Bad Request: wrong file identifier/HTTP URL specified", 0);
        return (ApiReply) {};
}

/* What a message shows of @f. */
static json_object *file_json(const File *f) {
        json_object *o = json_object_new_object(), *list;

        json_object_object_add(o, "file_id", json_object_new_string(f->id));
        json_object_object_add(o, "file_unique_id", json_object_new_string(f->unique_id));
        json_object_object_foreach(f->info, key, value)
                if (!streq(f->kind, "photo") || streq(key, "file_size"))
                        json_object_object_add(o, key, json_object_get(value));
        if (!streq(f->kind, "photo"))
                return o;
        /* The sandbox does not decode images: one size, of a size Telegram makes. */
        json_object_object_add(o, "width", json_object_new_int(1280));
        json_object_object_add(o, "height", json_object_new_int(1280));
        list = json_object_new_array();
        json_object_array_add(list, o);
        return list;
}

/* sendPhoto and sendDocument: the file and a caption of up to 1024 UTF-16 units once parsed. */
static ApiReply send_file(Bot *b, json_object *p, const char *kind) {
        char *caption = NULL, error[512];
        json_object *entities = NULL;
        File *f = NULL;
        ApiReply e;
        int r;

        if ((e = input_file(b, p, kind, &f)).json)
                return e;
        if (param_string(p, "caption")) {
                r = tg_text_parse(param_string(p, "parse_mode"), param_string(p, "caption"), &caption, &entities, error,
                                  sizeof error);
                if (r < 0)
                        return tg_error(r == -ENOMEM ? 500 : 400, r == -ENOMEM ? "Internal Server Error" : error, 0);
                if (tg_utf16_length(caption) > 1024) {
                        free(caption);
                        json_object_put(entities);
                        return tg_error(400, "Bad Request: message caption is too long", 0);
                }
                if (!*caption)
                        caption = mfree(caption);
        }
        return send_new(b, p, caption, entities, kind, file_json(f), true, NULL);
}

static ApiReply send_photo(Bot *b, json_object *p) {
        return send_file(b, p, "photo");
}

static ApiReply send_document(Bot *b, json_object *p) {
        return send_file(b, p, "document");
}

/* --- payments in Telegram Stars -------------------------------------------------------------------- */

/* sendInvoice for digital goods: currency XTR, an empty provider_token, exactly one price. */
static ApiReply send_invoice(Bot *b, json_object *p) {
        const char *title = param_string(p, "title"), *description = param_string(p, "description");
        const char *payload = param_string(p, "payload"), *currency = param_string(p, "currency");
        const char *provider = param_string(p, "provider_token");
        bool bad = false;
        json_object *prices = param_json(p, "prices", &bad), *invoice;
        int64_t amount;

        if (isempty(title) || tg_utf16_length(title) > 32 || isempty(description) || tg_utf16_length(description) > 255) {
                json_object_put(prices);
                return tg_error(400, isempty(title) || tg_utf16_length(title) > 32 ? "Bad Request: INVOICE_TITLE_INVALID"
                                                                                    : "Bad Request: INVOICE_DESCRIPTION_INVALID", 0);
        }
        if (isempty(payload) || strlen(payload) > 128) {
                json_object_put(prices);
                return tg_error(400, "Bad Request: INVOICE_PAYLOAD_INVALID", 0);
        }
        if (!streq_ptr(currency, "XTR") || !isempty(provider)) {
                json_object_put(prices);
                return tg_error(400, "Bad Request: CURRENCY_INVALID", 0);
        }
        if (bad || !json_object_is_type(prices, json_type_array) || json_object_array_length(prices) != 1 ||
            json_get_int64(json_object_array_get_idx(prices, 0), "amount", &amount) < 0 || amount <= 0 || amount > 10000 ||
            isempty(json_get_string(json_object_array_get_idx(prices, 0), "label"))) {
                json_object_put(prices);
                return tg_error(400, "Bad Request: Stars invoices must have exactly one price of 1-10000 Stars", 0);
        }
        json_object_put(prices);
        invoice = json_object_new_object();
        json_object_object_add(invoice, "title", json_object_new_string(title));
        json_object_object_add(invoice, "description", json_object_new_string(description));
        json_object_object_add(invoice, "start_parameter", json_object_new_string(strempty(param_string(p, "start_parameter"))));
        json_object_object_add(invoice, "currency", json_object_new_string("XTR"));
        json_object_object_add(invoice, "total_amount", json_object_new_int64(amount));
        Message *m = NULL;
        ApiReply r = send_new(b, p, NULL, NULL, "invoice", invoice, false, &m);
        if (m)
                m->invoice_payload = strdup(payload);
        return r;
}

static ApiReply answer_pre_checkout(Bot *b, json_object *p) {
        const char *id = param_string(p, "pre_checkout_query_id"), *ok = param_string(p, "ok");
        const char *error = param_string(p, "error_message");
        bool yes = streq_ptr(ok, "true") || streq_ptr(ok, "1");

        for (PreCheckout *k = b->checkouts; k && id; k = k->next) {
                if (!streq(k->id, id) || k->answered)
                        continue;
                if (!yes && isempty(error))
                        return tg_error(400, "Bad Request: error_message must be non-empty if ok is false", 0);
                k->answered = true;
                if (!yes) {
                        k->error = strdup(error);
                        return tg_ok(json_object_new_boolean(true));
                }
                json_object *paid = json_object_new_object();
                char charge[48];
                snprintf(charge, sizeof charge, "stxsandbox%s", k->id);
                json_object_object_add(paid, "currency", json_object_new_string("XTR"));
                json_object_object_add(paid, "total_amount", json_object_get(json_object_object_get(k->invoice, "total_amount")));
                json_object_object_add(paid, "invoice_payload", json_object_get(json_object_object_get(k->invoice, "payload")));
                json_object_object_add(paid, "telegram_payment_charge_id", json_object_new_string(charge));
                json_object_object_add(paid, "provider_payment_charge_id", json_object_new_string(""));
                Message *m = message_add(b, k->chat, false, NULL, NULL, NULL);
                m->kind = "successful_payment";
                m->content = paid;
                enqueue_update(b, k->chat, "message", message_json(b, k->chat, m));
                return tg_ok(json_object_new_boolean(true));
        }
        return tg_error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0);
}

int telegram_user_pays_invoice(Sandbox *sb, Bot *b, int64_t user, int64_t message_id, json_object **ret) {
        Chat *c = chat_get(b, user, false);
        Message *m = c ? message_find(c, message_id) : NULL;
        json_object *q;
        PreCheckout *k;

        if (!m || !m->from_bot || !streq_ptr(m->kind, "invoice"))
                return -ENOENT;
        k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        snprintf(k->id, sizeof k->id, "%" PRIi64 "%06ld", b->id % 100000, random() % 1000000);
        k->chat = c;
        k->invoice = json_object_new_object();
        json_object_object_add(k->invoice, "total_amount", json_object_get(json_object_object_get(m->content, "total_amount")));
        json_object_object_add(k->invoice, "payload", json_object_new_string(strempty(m->invoice_payload)));
        k->next = b->checkouts;
        b->checkouts = k;
        q = json_object_new_object();
        json_object_object_add(q, "id", json_object_new_string(k->id));
        json_object_object_add(q, "from", user_json(user, c->language));
        json_object_object_add(q, "currency", json_object_new_string("XTR"));
        json_object_object_add(q, "total_amount", json_object_get(json_object_object_get(k->invoice, "total_amount")));
        json_object_object_add(q, "invoice_payload", json_object_get(json_object_object_get(k->invoice, "payload")));
        enqueue_update(b, c, "pre_checkout_query", q);
        *ret = json_object_new_object();
        json_object_object_add(*ret, "pre_checkout_query_id", json_object_new_string(k->id));
        return 0;
}

json_object *telegram_pre_checkout_answer(Bot *b, const char *id) {
        for (PreCheckout *k = b->checkouts; k; k = k->next)
                if (streq(k->id, id)) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "answered", json_object_new_boolean(k->answered));
                        json_object_object_add(o, "ok", json_object_new_boolean(k->answered && !k->error));
                        json_object_object_add(o, "error_message", k->error ? json_object_new_string(k->error) : NULL);
                        return o;
                }
        return NULL;
}

/* --- dispatch ---------------------------------------------------------------------------------- */

typedef ApiReply (*MethodFn)(Bot *b, json_object *p);

static const struct { const char *name; MethodFn fn; } methods[] = {
        { "getMe", get_me },
        { "setWebhook", set_webhook },
        { "deleteWebhook", delete_webhook },
        { "getWebhookInfo", get_webhook_info },
        { "sendMessage", send_message },
        { "editMessageText", edit_text },
        { "editMessageReplyMarkup", edit_markup },
        { "answerCallbackQuery", answer_callback },
        { "deleteMessage", delete_message },
        { "sendChatAction", send_chat_action },
        { "setMyCommands", set_my_commands },
        { "getMyCommands", get_my_commands },
        { "deleteMyCommands", delete_my_commands },
        { "getChat", get_chat },
        { "sendLocation", send_location },
        { "sendVenue", send_venue },
        { "sendContact", send_contact },
        { "sendPhoto", send_photo },
        { "sendDocument", send_document },
        { "sendInvoice", send_invoice },
        { "answerPreCheckoutQuery", answer_pre_checkout },
};

/* Runs @method for @b; @x is the request when there is one to hold (a long poll). */
static ApiReply call_method(Bot *b, const char *method, json_object *p, HttpExchange *x) {
        if (strcasecmp(method, "getUpdates") == 0)
                return get_updates(b, p, x);
        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (strcasecmp(method, methods[i].name) == 0)
                        return methods[i].fn(b, p);
        return tg_error(404, "Not Found", 0);
}

/* A webhook may answer with a method call ({"method": "sendMessage", …}): Telegram runs it and
 * tells nobody how it went. */
static void run_webhook_answer(Bot *b, const HttpResponse *r) {
        json_object *call = NULL;
        const char *method;

        if (r->size == 0 || json_parse(r->body, r->size, &call) < 0 || !json_object_is_type(call, json_type_object) ||
            !(method = json_get_string(call, "method"))) {
                json_object_put(call);
                return;
        }
        sandbox_record_call(b->sb, "telegram-webhook-answer", method);
        json_object_put(call_method(b, method, call, NULL).json);
        json_object_put(call);
}

ApiReply telegram_handle(Sandbox *sb, const ApiRequest *req, const char *token, const char *method) {
        if (sb->limits.latency_usec > 0 && req->x && delay_call(sb, req, token, method))
                return (ApiReply) {};
        return telegram_run(sb, req->x, req->params, token, method);
}

static ApiReply telegram_run(Sandbox *sb, HttpExchange *x, json_object *params, const char *token,
                             const char *method) {
        Bot *b;

        if (!token_valid(token))
                return tg_error(401, "Unauthorized", 0);
        b = bot_find(sb, token);
        if (!b && sb->known_bots_only)
                return tg_error(401, "Unauthorized", 0);
        if (!b)
                b = bot_new(sb, token, NULL);
        sandbox_record_call(sb, "telegram", method);
        return call_method(b, method, params, x);
}

static void chat_free(Chat *c) {
        while (c->messages) {
                Message *m = c->messages;
                c->messages = m->next;
                free(m->text);
                json_object_put(m->entities);
                json_object_put(m->content);
                json_object_put(m->reply_markup);
                free(m->invoice_payload);
                free(m);
        }
        while (c->queue)
                update_pop(c);
        sd_event_source_disable_unref(c->retry);
        free(c->language);
        free(c);
}

void telegram_free_all(Sandbox *sb) {
        while (sb->delayed)
                delayed_free(sb->delayed);
        while (sb->bots) {
                Bot *b = sb->bots;
                sb->bots = b->next;
                while (b->chats) {
                        Chat *c = b->chats;
                        b->chats = c->next;
                        chat_free(c);
                }
                while (b->queries) {
                        CallbackQuery *q = b->queries;
                        b->queries = q->next;
                        free(q->answer_text);
                        free(q);
                }
                free(b->token);
                free(b->username);
                free(b->webhook_url);
                free(b->secret);
                if (b->certificate)
                        (void) unlink(b->certificate);
                free(b->certificate);
                free(b->last_error_message);
                json_object_put(b->allowed_updates);
                json_object_put(b->commands);
                sd_event_source_disable_unref(b->poll_timer);
                while (b->checkouts) {
                        PreCheckout *k = b->checkouts;
                        b->checkouts = k->next;
                        json_object_put(k->invoice);
                        free(k->error);
                        free(k);
                }
                while (b->files) {
                        File *f = b->files;
                        b->files = f->next;
                        json_object_put(f->info);
                        free(f);
                }
                free(b);
        }
}

ApiReply telegram_error(unsigned status, const char *description) {
        return tg_error((int) status, description, 0);
}
