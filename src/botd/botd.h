/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-botd: the bot engine. Updates arrive on "updates:<bot>" and order events on
 * "events:<bot>" (consumer group "botd"); work.c runs each in its chat's order through the bot's
 * role (shop.c, sales.c, tenant-bot.c or master.c), and commits the role's plan — new conversation state, messages to send,
 * acknowledgement — in one Redis script, so a crash re-runs an update without doubling its
 * effects. What the bot says leaves through sender.c. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "http-client.h"
#include "i18n.h"
#include "redis.h"
#include "redis-keys.h"
#include "sales-plans.h"
#include "sender.h"
#include "shop-catalog.h"
#include "stream-reader.h"

#define WORK_CALLS_MAX 10

typedef struct Botd Botd;
typedef struct Master Master;
typedef struct Updates Updates;
typedef struct Work Work;

/* What a bot does with its entries: the shop, a tenant's (business's) bot, or the operators'
 * master bot. Each handler ends with work_commit(). */
typedef struct BotRole {
        const char *name;
        int (*setup)(Botd *b);      /* NULL, or reads what the role needs; returns 0 or -errno (logged) */
        int (*reload)(Botd *b, const Config *next);   /* NULL, or takes what changed (SIGHUP); as setup */
        void (*done)(Botd *b);      /* NULL, or frees what setup() made */
        void (*handle_update)(Work *w);
        void (*handle_event)(Work *w);
        bool (*trusted)(const Botd *b, int64_t user);   /* NULL, or exempts @user from the request limit */
        bool needs_bus;             /* calls org.tgfleet.Payments1 or Deploy1 on the system bus */
        bool booking_peer;          /* calls org.tgfleet.Booking1 on bookingd's socket instead */
        bool erase_updates;         /* updates may carry secrets (bot tokens): deleted once handled */
} BotRole;

extern const BotRole shop_role;
extern const BotRole tenant_role;
extern const BotRole master_role;
extern const BotRole sales_role;

typedef struct BotdArgs {
        const char *config_path;
        int64_t tenant;             /* > 0: run that tenant's bot */
        bool master;                /* the master bot */
        bool sales;                 /* the sales bot; none of these: the shop */
        const char *locale_dir;     /* NULL: the installed catalogs */
        const char *consumer;       /* NULL: the host name */
} BotdArgs;

struct Botd {
        Daemon daemon;              /* loop, config, Redis (commands; blocking reads: [0] the update
                                     * reader's, [1] the sender's), HTTP, and the system bus when
                                     * the role calls org.tgfleet.Payments1 */
        const BotdArgs *args;
        const BotRole *role;
        ShopCatalog catalog;        /* the shop's */
        SalesPlans plans;           /* the sales bot's */
        char bot[65];
        RedisName profile_key;      /* a tenant's "tenant:<id>" hash (name, owner_id, bot_username) */
        Secret *token;
        Sender *sender;
        Updates *updates;

        Master *master;             /* the master role's own state */

        struct {
                uint64_t updates, events, limited, failures;
        } stats;
};

/* One update or event being handled: what it says, and the plan the role builds. */
struct Work {
        StreamEntry entry;          /* on "updates:<bot>" or "events:<bot>"; its key is the chat */
        Botd *b;
        bool is_event;
        json_object *root;          /* the update, or the event's fields as an object */

        int64_t chat, user;
        Lang lang;
        const char *text;           /* a message's text, or NULL */
        int64_t message_id;         /* a message's id */
        const char *callback_id;    /* a button press: its id, data and message */
        const char *callback_data;
        int64_t callback_message;
        bool callback_answered;

        json_object *state;         /* the conversation state (an object; empty when none) */
        bool state_changed;
        OutboxCall calls[WORK_CALLS_MAX];
        unsigned n_calls;
        RedisName dedupe_key;       /* events: the key marking it handled; empty for updates */
        json_object *scratch;       /* the role's own data between its calls; freed with the work */
};

/* Runs the daemon. Returns 0 or a negative errno (logged). */
int botd_run(const BotdArgs *args);

/* Queues a Bot API call to the work's chat: @params (consumed) gets chat_id added. Returns 0 or
 * -ENOMEM/-E2BIG. */
int work_call(Work *w, const char *method, json_object *params);

/* The same to chat @chat (another user's: a notice), and a text message there, as
 * work_send_text(). */
int work_call_to(Work *w, int64_t chat, const char *method, json_object *params);
int work_send_to(Work *w, int64_t chat, const char *text, json_object *reply_markup);

/* Shorthands: a text message with an optional keyboard (consumed); an edit of the pressed
 * message (a new message when the update is no press); the answer to a button press (every
 * press gets exactly one). */
int work_send_text(Work *w, const char *text, json_object *reply_markup);
int work_edit_text(Work *w, const char *text, json_object *reply_markup);
/* An edit of the chat's message @message_id (one the bot sent earlier), as work_edit_text(). */
int work_edit_message(Work *w, int64_t message_id, const char *text, json_object *reply_markup);
int work_answer(Work *w, const char *text, bool alert);

/* Replaces the conversation state with @state (consumed; NULL clears it). */
void work_set_state(Work *w, json_object *state);

/* Ends the handling: commits the plan, acknowledges the entry, and moves to the chat's next
 * item. Every path of a role must end here exactly once. */
void work_commit(Work *w);

/* Ends the handling of @w without effects: its entry stays pending and is handled again after
 * the retry pause (or a restart). For work cut short by botd stopping, or an event that needs a
 * service that is down. */
void work_abandon(Work *w);

/* A role's reply to a D-Bus call: @reply, or @error (set when the call failed or was not sent). */
typedef void (*WorkReplyFn)(Work *w, sd_bus_message *reply, const sd_bus_error *error);

/* Calls @method of @destination (the interface has the name's name) at @path, on behalf of @w,
 * with the arguments of @types; @fn gets exactly one call, possibly before this returns. */
void work_bus_call(Work *w, const char *destination, const char *path, const char *method, WorkReplyFn fn,
                   const char *types, ...);
