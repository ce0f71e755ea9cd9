/* SPDX-License-Identifier: MIT */
/* The control API, for tests and people:
 *   GET  /sandbox/health
 *   POST /sandbox/bots {"username": "shop_bot", "token": optional}   → {token, id, username}
 *   GET  /sandbox/bots
 *   POST /sandbox/bots/BOT/users/USER/send {"text": "…", "language_code": optional}
 *   POST /sandbox/bots/BOT/users/USER/press {"label": "button text, or its number"}
 *                                        or {"message_id": N, "button": K}: that message's K-th button
 *   GET  /sandbox/bots/BOT/users/USER/messages
 *   POST /sandbox/bots/BOT/users/USER/block|unblock|deactivate   the user blocks the bot, …
 *   POST /sandbox/bots/BOT/users/USER/contact {"phone_number", "user_id"?}   shares their contact
 *                                                        (or, with user_id, that user's)
 *   POST /sandbox/bots/BOT/users/USER/location {"latitude", "longitude"}   … or a location
 *   POST /sandbox/bots/BOT/users/GROUP/migrate    the group (a negative id) becomes a supergroup
 *   POST /sandbox/bots/BOT/users/USER/pay {"message_id"}   pays the bot's Stars invoice (pre_checkout_query)
 *   GET  /sandbox/bots/BOT/checkouts/ID            → {answered, ok, error_message}: the bot's answer to it
 *   GET  /sandbox/bots/BOT/callbacks/ID            → {answered, text}: the bot's answer to a press
 *   POST /sandbox/heleket/ORDER_OR_UUID/pay|pay-over|pay-short|seen|process|expire|fail|refund|refund-fail
 *                                                 (409 on an invoice that is final: only a paid one is
 *                                                 refunded)
 *        {"webhook": false} changes the invoice without sending its webhook (a lost webhook)
 *   POST /sandbox/limits {"bot_rate": 30, "chat_rate": 1, "group_rate": 20}   flood limits, each optional
 *   POST /sandbox/heleket-fault {"status": 500}   every Heleket call answers so; 0 ends it
 *   POST /sandbox/yookassa-fault {"status": 500, "count": 2}   the next COUNT (default 1) YooKassa calls
 *                                                 take effect but are answered so (500 or 202); 0 ends it
 *   POST /sandbox/yookassa/PAYMENT_ID/succeed|cancel|expire|refund|revoke|decline   the payer pays (a two-stage
 *                                                 payment then waits for capture), leaves, time runs out,
 *                                                 the saved method is withdrawn or refused by its bank
 *                                                 from now on (409 where the status allows none);
 *                                                 {"webhook": false}: without its notification;
 *                                                 cancel, decline {"reason": "insufficient_funds"}: why;
 *                                                 refund: all of a succeeded payment given back
 *   GET  /sandbox/calls
 * BOT is a bot's username or token. */

#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "sandbox.h"

static ApiReply ok(json_object *o) {
        return api_reply(200, o);
}

static ApiReply errno_reply(int r, const char *what) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: %s", what, strerror(-r));
        return api_error(r == -ENOENT ? 404 : r == -EBUSY ? 409 : 400, msg);
}

static ApiReply bots(Sandbox *sb, const ApiRequest *req) {
        if (streq(req->method, "POST")) {
                const char *username = json_get_string(req->params, "username"), *token = json_get_string(req->params, "token");
                /* An existing bot asked for by username alone: its token, as BotFather's /token gives. */
                Bot *b = username && !token ? bot_find(sb, username) : NULL;
                json_object *o;
                if (!b)
                        b = telegram_create_bot(sb, username, token);
                if (!b)
                        return api_error(409, "bot exists already, or the token is malformed");
                o = telegram_bot_info(b);
                json_object_object_add(o, "token", json_object_new_string(bot_token(b)));
                return ok(o);
        }
        json_object *list = json_object_new_array();
        for (Bot *b = sb->bots; b; b = bot_next(b)) {
                json_object *o = telegram_bot_info(b);
                telegram_bot_counters(b, o);
                json_object_array_add(list, o);
        }
        return ok(list);
}

static ApiReply user_action(Sandbox *sb, const ApiRequest *req, Bot *b, int64_t user, const char *action) {
        json_object *out = NULL;
        int r;

        if (streq(action, "messages") && streq(req->method, "GET"))
                return ok(telegram_chat_messages(b, user));
        if (!streq(req->method, "POST"))
                return api_error(405, "Method Not Allowed");
        if (streq(action, "send"))
                r = telegram_user_says(sb, b, user, json_get_string(req->params, "text"),
                                       json_get_string(req->params, "language_code"), &out);
        else if (streq(action, "pay")) {
                int64_t message_id = 0;
                (void) json_get_int64(req->params, "message_id", &message_id);
                r = telegram_user_pays_invoice(sb, b, user, message_id, &out);
        } else if (streq(action, "migrate"))
                r = telegram_chat_migrate(sb, b, user, &out);
        else if (streq(action, "contact") || streq(action, "location"))
                r = telegram_user_shares(sb, b, user, action, req->params, &out);
        else if (streq(action, "press")) {
                int64_t message_id = 0, index = 0;
                (void) json_get_int64(req->params, "message_id", &message_id);
                (void) json_get_int64(req->params, "button", &index);
                r = telegram_user_presses(sb, b, user, strempty(json_get_string(req->params, "label")), message_id,
                                          index, json_get_string(req->params, "data"), &out);
        } else if (streq(action, "block") || streq(action, "unblock") || streq(action, "deactivate")) {
                r = telegram_user_sets(sb, b, user, action);
                out = r >= 0 ? json_object_new_object() : NULL;
        } else
                return api_error(404, "Not Found");
        if (r == -ENOENT && streq(action, "press"))
                return api_error(404, "no such button in this chat (give a label or a number the chat shows)");
        return r < 0 ? errno_reply(r, action) : ok(out);
}

/* {"bot_rate": N, "chat_rate": N, "group_rate": N}, each optional: Telegram's flood limits from now on. */
static ApiReply set_limits(Sandbox *sb, const ApiRequest *req) {
        static const char *const keys[] = { "bot_rate", "chat_rate", "group_rate" };
        unsigned *fields[] = { &sb->limits.bot_per_sec, &sb->limits.chat_per_sec, &sb->limits.group_per_min };
        int64_t v[ELEMENTSOF(keys)];

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                v[i] = *fields[i];
                if (json_object_object_get_ex(req->params, keys[i], NULL) &&
                    (json_get_int64(req->params, keys[i], &v[i]) < 0 || v[i] < 1 || v[i] > 1000000))
                        return api_error(400, "bot_rate, chat_rate, group_rate: integers from 1 to 1000000");
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                *fields[i] = (unsigned) v[i];
        return ok(json_object_new_object());
}


/* {"webhook": false} (or "false", "0"): the change is made without its webhook (a lost one). */
static bool webhook_wanted(const ApiRequest *req) {
        json_object *w = NULL;

        if (!json_object_object_get_ex(req->params, "webhook", &w))
                return true;
        return json_object_is_type(w, json_type_string)
                ? !streq(json_object_get_string(w), "false") && !streq(json_object_get_string(w), "0")
                : json_object_get_boolean(w);
}

ApiReply control_handle(Sandbox *sb, const ApiRequest *req) {
        char a[128], b[128], c[128], d[32];
        const char *p = req->path;
        json_object *out = NULL;
        int r;

        if (streq(p, "/sandbox/health"))
                return ok(json_tokener_parse("{\"ok\":true}"));
        if (streq(p, "/sandbox/calls"))
                return ok(json_object_get(sb->calls));
        if (streq(p, "/sandbox/bots"))
                return bots(sb, req);
        if (sscanf(p, "/sandbox/bots/%127[^/]/checkouts/%127[0-9]", a, b) == 2 && streq(req->method, "GET")) {
                Bot *bot = bot_find(sb, a);
                out = bot ? telegram_pre_checkout_answer(bot, b) : NULL;
                return out ? ok(out) : api_error(404, "no such bot or pre-checkout query");
        }
        if (sscanf(p, "/sandbox/bots/%127[^/]/callbacks/%127[0-9]", a, b) == 2 && streq(req->method, "GET")) {
                Bot *bot = bot_find(sb, a);
                out = bot ? telegram_callback_answer(bot, b) : NULL;
                return out ? ok(out) : api_error(404, "no such bot or button press");
        }
        if (sscanf(p, "/sandbox/bots/%127[^/]/users/%127[^/]/%31[a-z]", a, b, d) == 3) {
                Bot *bot = bot_find(sb, a);
                char *end;
                long long user = strtoll(b, &end, 10);
                if (!bot)
                        return api_error(404, "no such bot");
                if (*end || user == 0)
                        return api_error(400, "user ids are non-zero integers");
                return user_action(sb, req, bot, user, d);
        }
        if (streq(p, "/sandbox/limits") && streq(req->method, "POST"))
                return set_limits(sb, req);
        if (streq(p, "/sandbox/heleket-fault") && streq(req->method, "POST")) {
                int64_t status = 0;
                if (json_get_int64(req->params, "status", &status) < 0 || status < 0 || status > 599)
                        return api_error(400, "status: an HTTP status, or 0 to end the fault");
                sb->heleket_fault = (unsigned) status;
                return ok(json_object_new_object());
        }
        if (streq(p, "/sandbox/yookassa-fault") && streq(req->method, "POST")) {
                int64_t status = 0, count = 1;
                if (json_get_int64(req->params, "status", &status) < 0 || (status != 0 && status != 202 && status < 500) ||
                    status > 599)
                        return api_error(400, "status: 202 or a 5xx, or 0 to end the fault");
                if (json_object_object_get_ex(req->params, "count", NULL) &&
                    (json_get_int64(req->params, "count", &count) < 0 || count < 1 || count > 1000000))
                        return api_error(400, "count: how many calls (1 or more)");
                sb->yookassa_fault = (unsigned) status;
                sb->yookassa_faults = status ? (unsigned) count : 0;
                return ok(json_object_new_object());
        }
        if (sscanf(p, "/sandbox/heleket/%127[^/]/%127[a-z-]", a, c) == 2 && streq(req->method, "POST")) {
                r = heleket_trigger(sb, a, c, webhook_wanted(req), &out);
                return r < 0 ? errno_reply(r, "heleket") : ok(out);
        }
        if (sscanf(p, "/sandbox/yookassa/%127[^/]/%127[a-z]", a, c) == 2 && streq(req->method, "POST")) {
                const char *reason = json_get_string(req->params, "reason");
                if (reason && (strlen(reason) == 0 || strlen(reason) > 64 ||
                               strspn(reason, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(reason)))
                        return api_error(400, "reason: a cancellation reason such as insufficient_funds");
                r = yookassa_trigger(sb, a, c, reason, webhook_wanted(req), &out);
                return r < 0 ? errno_reply(r, "yookassa") : ok(out);
        }
        return api_error(404, "Not Found");
}
