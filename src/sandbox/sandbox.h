/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-sandbox: a local emulation of the three internet APIs tgfleet talks to (Telegram Bot
 * API, Heleket, YooKassa), faithful to reference/protocols.md, plus a control API (/sandbox/…)
 * through which tests and people act as Telegram users and as payers. State is in memory. */

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "http-client.h"
#include "http-server.h"

typedef struct Bot Bot;
typedef struct Invoice Invoice;
typedef struct YkPayment YkPayment;
typedef struct Delivery Delivery;

typedef struct SandboxLimits {
        unsigned bot_per_sec;      /* messages per second per bot (30) */
        unsigned chat_per_sec;     /* per private chat (1), with a burst of chat_burst */
        unsigned chat_burst;
        unsigned group_per_min;    /* per group chat (20) */
        uint64_t retry_base_usec;  /* first webhook retry delay; doubles, capped at retry_max */
        uint64_t retry_max_usec;
        uint64_t latency_usec;     /* half the Bot API calls, at random, wait this long before
                                    * they are run, as calls cross a network; 0: none waits */
} SandboxLimits;

typedef struct Sandbox {
        sd_event *event;
        HttpServer *http;
        HttpClient *client;
        SandboxLimits limits;

        Bot *bots;                  /* linked list */
        int64_t next_update_id;     /* take them with sandbox_next_update_id() */
        const char *state_path;     /* --state-file: where the counter is kept, or NULL */
        int64_t update_id_reserved; /* ids below this one are reserved in state_path */
        bool known_bots_only;       /* unknown tokens get 401, not a new bot */
        bool allow_local_http;      /* webhooks may be http:// to this machine, on any port */

        /* Heleket */
        char *heleket_merchant;
        char *heleket_key;
        char *heleket_payout_key;   /* NULL: refunds are refused, as without the payout key */
        Invoice *invoices;
        Delivery *deliveries;       /* webhooks not answered 200 yet */
        int64_t heleket_min_lifetime; /* seconds (300 as Heleket; lower for tests) */
        unsigned heleket_fault;     /* when not 0, every Heleket API call is answered with this status */
        bool yk_mute;               /* a change made without its notification (a lost one) */
        unsigned yookassa_fault;    /* when not 0, the next yookassa_faults calls are answered with this */
        unsigned yookassa_faults;   /* status (500, 202) after taking effect: the answer is what is lost */

        /* YooKassa */
        char *yk_shop_id;
        bool yk_receipts;           /* --yookassa-receipts: a payment without a valid receipt is refused */
        char *yk_secret;
        char *yk_notify_url;
        YkPayment *yk_payments;

        struct DelayedCall *delayed; /* Bot API calls waiting out their latency */

        /* Every API call received, for inspection: a JSON array of {api, method, path}. */
        json_object *calls;
} Sandbox;

/* One API request as the router hands it to a handler: the method, the path, the body, and the
 * parameters merged from query string, form or JSON body (a JSON object; owned by the caller). */
typedef struct ApiRequest {
        HttpExchange *x;
        struct MHD_Connection *conn;
        const char *method;
        const char *path;
        const char *body;
        size_t body_size;
        json_object *params;
} ApiRequest;

/* An answer: status and a JSON value (ownership passes to the router). Status 0 with no JSON:
 * the handler keeps the request and answers it later with sandbox_answer() (a long poll). */
typedef struct ApiReply {
        unsigned status;
        json_object *json;
} ApiReply;

/* Answers the request @x with @r (its JSON is taken). */
void sandbox_answer(HttpExchange *x, ApiReply r);

/* Handlers. Each returns its reply; none blocks. */
ApiReply telegram_handle(Sandbox *sb, const ApiRequest *req, const char *token, const char *method);
ApiReply heleket_handle(Sandbox *sb, const ApiRequest *req);
ApiReply yookassa_handle(Sandbox *sb, const ApiRequest *req);
ApiReply control_handle(Sandbox *sb, const ApiRequest *req);

/* Telegram side used by the control API. */
Bot *bot_find(Sandbox *sb, const char *name_or_token);
Bot *bot_next(Bot *b);
const char *bot_token(Bot *b);
Bot *telegram_create_bot(Sandbox *sb, const char *username, const char *token);

/* Where update_ids start without a state file: from the clock, so that a restart does not
 * repeat them (state.c). */
int64_t sandbox_first_update_id(void);
/* --state-file=@path: continues the update_id counter kept there (state.c). Returns 0, or
 * -errno (logged) when the file exists and cannot be read. */
int sandbox_state_load(Sandbox *sb, const char *path);
/* The next update_id: never one given before, also across restarts with a state file. */
int64_t sandbox_next_update_id(Sandbox *sb);

/* {"answered": bool, "text": … or null} of the button press @id, or NULL when there is none. */
json_object *telegram_callback_answer(Bot *b, const char *id);
int telegram_user_says(Sandbox *sb, Bot *bot, int64_t user, const char *text, const char *language, json_object **ret);
/* The user presses an inline button: the @index-th (1-based) of message @message_id when that is
 * given (> 0), otherwise the last one labelled @label (or numbered so, counting the last
 * keyboard's buttons). With @forged_data, the press carries that data, whatever the buttons are,
 * on message @message_id or the bot's last one (a modified client; Telegram does not check it).
 * Returns 0 ({"callback_query_id"} or {"url"}), -ENOENT, -EOPNOTSUPP. */
int telegram_user_presses(Sandbox *sb, Bot *bot, int64_t user, const char *label, int64_t message_id, int64_t index,
                          const char *forged_data, json_object **ret);
/* What a user does to the bot, not in the chat: "block" (the bot's messages are refused with 403
 * and it gets a my_chat_member update, "kicked"), "unblock" (the same back to "member"; a user
 * who writes to the bot unblocks it too), "deactivate" (the account is deleted: 403 "user is
 * deactivated", for good). Returns 0, -EINVAL for a user id that is not a private chat's, -EPERM
 * for a deactivated user, -EOPNOTSUPP for another @what. */
int telegram_user_sets(Sandbox *sb, Bot *b, int64_t user, const char *what);
/* The user shares something from a keyboard button: @what "contact" ({"phone_number"}; what a
 * request_contact button sends) or "location" ({"latitude", "longitude"}). Returns 0, -EINVAL for
 * a bad user or value, -EPERM for a deactivated user, -EOPNOTSUPP for another @what. */
int telegram_user_shares(Sandbox *sb, Bot *b, int64_t user, const char *what, json_object *params, json_object **ret);
/* The group @group is upgraded to a supergroup: the bot's messages to it are then refused with
 * migrate_to_chat_id, and both chats get their service message. Returns 0, -EINVAL for no such
 * group, -EBUSY when it migrated already. */
int telegram_chat_migrate(Sandbox *sb, Bot *b, int64_t group, json_object **ret);
/* The user presses Pay on the bot's Stars invoice @message_id: the bot gets a pre_checkout_query
 * to answer; answered ok, the user is charged and the bot gets the successful_payment message.
 * Returns 0 ({"pre_checkout_query_id"}), -ENOENT when there is no such invoice. */
int telegram_user_pays_invoice(Sandbox *sb, Bot *b, int64_t user, int64_t message_id, json_object **ret);
/* {"answered", "ok", "error_message"} of the pre-checkout query @id, or NULL. */
json_object *telegram_pre_checkout_answer(Bot *b, const char *id);
json_object *telegram_chat_messages(Bot *bot, int64_t chat);
json_object *telegram_bot_info(Bot *bot);
/* Adds the bot's counters to @o: messages_sent, too_many_requests (429 answers). */
void telegram_bot_counters(Bot *bot, json_object *o);
void telegram_free_all(Sandbox *sb);
/* The request @x is over (answered, or its client left): nothing may answer it any more. */
void telegram_exchange_gone(Sandbox *sb, HttpExchange *x);

/* The payment page: serves @req when its path is /pay/… (*@ret_status, *@ret_html malloc'd) and
 * returns true; false for any other path. */
bool sandbox_page(Sandbox *sb, const ApiRequest *req, unsigned *ret_status, char **ret_html);

/* The base URL clients reach the sandbox at, from the request's Host header. */
void sandbox_base_url(const ApiRequest *req, char *buf, size_t size);

/* An invoice (by order id or uuid) or a YooKassa payment as its API shows it (a new reference),
 * or NULL. */
json_object *heleket_invoice(Sandbox *sb, const char *key);
json_object *yookassa_payment(Sandbox *sb, const char *id);

/* Heleket and YooKassa triggers used by the control API. */
int heleket_trigger(Sandbox *sb, const char *order_or_uuid, const char *outcome, bool webhook, json_object **ret);
/* YooKassa's, of @payment_id (YooKassa's id, or the shop's Idempotence-Key for it): @reason (NULL
 * for the default) is a cancellation's, @notify false makes the change without its notification. */
int yookassa_trigger(Sandbox *sb, const char *payment_id, const char *outcome, const char *reason, bool notify,
                     json_object **ret);
void heleket_free_all(Sandbox *sb);
void yookassa_free_all(Sandbox *sb);

/* Serves the HTTP side of the sandbox (every emulated API and the control API) on the listening
 * socket @fd, taken. Returns 0 or -errno. */
int sandbox_serve(Sandbox *sb, int fd);

/* Records an API call for GET /sandbox/calls. */
void sandbox_record_call(Sandbox *sb, const char *api, const char *what);

/* Small helpers. api_error() is the control API's shape, {"error": @message}. */
ApiReply api_reply(unsigned status, json_object *json);
ApiReply api_error(unsigned status, const char *message);

/* Each emulated API's own error shape, for the answers the server gives before a route does (an
 * unknown path, a body that does not parse, one too large): Telegram's {"ok":false,"error_code",
 * "description"}, Heleket's {"state":1,"message"}, YooKassa's {"type":"error","id","code",
 * "description"}. */
ApiReply telegram_error(unsigned status, const char *description);
ApiReply heleket_error(unsigned status, const char *message);
ApiReply yookassa_error(unsigned status, const char *code, const char *description);
