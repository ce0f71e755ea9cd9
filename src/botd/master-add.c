/* SPDX-License-Identifier: MIT */
/* "➕ Add client": the bot's token (checked with getMe, its message deleted, held in memory
 * only), the owner's Telegram id, the business's name, a confirmation, then POST /api/clients. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot-api.h"
#include "json-util.h"
#include "keyboard.h"
#include "master-flows.h"
#include "tenant.h"

void master_add_start(Work *w) {
        json_object *st = json_object_new_object();

        json_object_object_add(st, "await", json_object_new_string("token"));
        work_set_state(w, st);
        (void) work_send_text(w, T(w->lang, "<b>New client</b>, step 1 of 3.\nSend the bot's token from @BotFather. "
                                            "I delete your message with it at once; the token is kept only in the "
                                            "deploy worker's credential store."),
                              master_cancel_keyboard(w->lang));
        work_commit(w);
}

void master_delete_message(Work *w) {
        json_object *p = json_object_new_object();

        json_object_object_add(p, "message_id", json_object_new_int64(w->message_id));
        (void) work_call(w, "deleteMessage", p);
}

static void on_get_me(const BotApiResult *res, void *userdata) {
        Work *w = userdata;
        const char *username = json_get_string(res->result, "username");
        char text[512], escaped[256];
        int64_t id = 0;
        Secret *token;
        json_object *st;

        if (w->b->daemon.stopping)
                return work_abandon(w);
        if (res->error == -EACCES)
                snprintf(text, sizeof text, "%s", T(w->lang, "Telegram does not know this token (revoked?). Send a valid "
                                                             "token, or /cancel."));
        else if (res->error == -EINVAL)
                snprintf(text, sizeof text, T(w->lang, "Telegram refused the token: %s. Send another, or /cancel."),
                         html_escape(strempty(res->description), escaped, sizeof escaped));
        else if (res->error < 0 || !username || json_get_int64(res->result, "id", &id) < 0)
                snprintf(text, sizeof text, "%s", T(w->lang, "Telegram cannot be reached right now. Send the token again "
                                                             "in a minute, or /cancel."));
        else {
                token = secret_new(w->text, strlen(w->text));
                if (!token) {
                        (void) work_send_text(w, T(w->lang, "Something went wrong. Send the token again."), NULL);
                        return work_commit(w);
                }
                master_hold_token(w->b->master, w->chat, token, master_now(w));
                st = json_object_new_object();
                json_object_object_add(st, "await", json_object_new_string("owner"));
                json_object_object_add(st, "bot_username", json_object_new_string(username));
                work_set_state(w, st);
                snprintf(text, sizeof text, T(w->lang, "Bot @%s checked. Step 2 of 3: send the owner's Telegram user "
                                                       "id (a number; the owner can see it in @userinfobot)."),
                         html_escape(username, escaped, sizeof escaped));
                (void) work_send_text(w, text, master_cancel_keyboard(w->lang));
                return work_commit(w);
        }
        (void) work_send_text(w, text, master_cancel_keyboard(w->lang));
        work_commit(w);
}

void master_add_token(Work *w) {
        master_delete_message(w);
        if (!bot_token_valid(w->text)) {
                (void) work_send_text(w, T(w->lang, "That is not a bot token (they look like 123456789:AAE…). Send the "
                                                    "token again, or /cancel."),
                                      NULL);
                return work_commit(w);
        }
        if (bot_api_call(w->b->daemon.http, w->b->daemon.config.telegram_url, w->text, "getMe", NULL, on_get_me, w) < 0)
                on_get_me(&(BotApiResult) { .error = -ENOMEM }, w);
}

void master_add_owner(Work *w) {
        char id[32];
        int64_t owner;

        snprintf(id, sizeof id, "%.*s", (int) strcspn(w->text + strspn(w->text, " "), " "), w->text + strspn(w->text, " "));
        if (tenant_id_parse(id, &owner) < 0) {
                (void) work_send_text(w, T(w->lang, "The owner is a Telegram user id: a whole number such as 123456789. "
                                                    "Send it again, or /cancel."),
                                      NULL);
                return work_commit(w);
        }
        json_object_object_add(w->state, "await", json_object_new_string("name"));
        json_object_object_add(w->state, "owner", json_object_new_int64(owner));
        w->state_changed = true;
        (void) work_send_text(w, T(w->lang, "Step 3 of 3: the business's name, as its bot greets customers (up to "
                                            "100 characters)."),
                              master_cancel_keyboard(w->lang));
        work_commit(w);
}

static void show_add_confirm(Work *w) {
        const char *username = strempty(json_get_string(w->state, "bot_username")), *name = json_get_string(w->state, "name");
        char text[1024], u[256], n[TENANT_NAME_MAX_CHARS * 4 * 6];
        int64_t owner = 0;
        json_object *rows = json_object_new_array();

        (void) json_get_int64(w->state, "owner", &owner);
        snprintf(text, sizeof text, T(w->lang, "Add this client and deploy its bot?\n\nBot: @%s\nOwner: <code>%" PRId64
                                               "</code>\nName: <b>%s</b>"),
                 html_escape(username, u, sizeof u), owner, html_escape(strempty(name), n, sizeof n));
        json_object_array_add(rows, row(button(T(w->lang, "✅ Add"), "add"), button(T(w->lang, "✖️ Cancel"), "cancel")));
        (void) work_send_text(w, text, inline_keyboard(rows));
}

void master_add_name(Work *w) {
        char name[TENANT_NAME_MAX_BYTES + 1];

        if (tenant_name_clean(w->text, name, sizeof name) < 0) {
                (void) work_send_text(w, T(w->lang, "The name must have 1 to 100 characters. Send it again, or /cancel."), NULL);
                return work_commit(w);
        }
        json_object_object_add(w->state, "await", json_object_new_string("confirm"));
        json_object_object_add(w->state, "name", json_object_new_string(name));
        w->state_changed = true;
        show_add_confirm(w);
        work_commit(w);
}

static void on_added(Work *w, const ApiAnswer *a) {
        json_object *client = NULL, *task = NULL;
        char text[1024], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[256], t[128];
        int64_t id = 0, position = 0;

        /* Refused for good: the flow ends, and the confirmation says why. Unavailable: the
         * operator may press ✅ Add again. */
        if (a->error == 0 && a->status >= 400 && a->status < 500 && master_api_refused(w, a, true, text, sizeof text)) {
                master_flow_end(w);
                (void) work_edit_text(w, text, NULL);
                return work_commit(w);
        }
        if (master_api_failed(w, a))
                return;
        master_flow_end(w);
        json_object_object_get_ex(a->json, "client", &client);
        json_object_object_get_ex(a->json, "task", &task);
        (void) json_get_int64(client, "id", &id);
        (void) json_get_int64(task, "position", &position);
        snprintf(text, sizeof text, T(w->lang, "✅ Client #%" PRId64 " <b>%s</b> (@%s) added. Deploy task <code>%s</code> "
                                               "is queued at position %" PRId64 "; I tell you here when it ends."),
                 id, html_escape(strempty(json_get_string(client, "name")), n, sizeof n),
                 html_escape(strempty(json_get_string(client, "bot_username")), u, sizeof u),
                 html_escape(strempty(json_get_string(task, "id")), t, sizeof t), position);
        (void) work_edit_text(w, text, NULL);
        work_commit(w);
}

void master_add_confirmed(Work *w) {
        const Secret *token = master_held_token(w->b->master, w->chat, master_now(w));
        _cleanup_(json_object_putp) json_object *body = NULL;
        int64_t owner = 0;

        if (!streq_ptr(json_get_string(w->state, "await"), "confirm")) {
                (void) work_answer(w, T(w->lang, "Nothing to add: this was done or cancelled already."), true);
                return work_commit(w);
        }
        if (!token) {
                master_flow_end(w);
                (void) work_edit_text(w, T(w->lang, "The token is no longer held (it is kept 15 minutes, and not across "
                                                    "restarts). Start again with ➕ Add client."),
                                      NULL);
                return work_commit(w);
        }
        (void) json_get_int64(w->state, "owner", &owner);
        body = json_object_new_object();
        json_object_object_add(body, "token", json_object_new_string(token->data));
        json_object_object_add(body, "owner_id", json_object_new_int64(owner));
        json_object_object_add(body, "name", json_object_new_string(strempty(json_get_string(w->state, "name"))));
        master_api_call(w, "POST", "/api/clients", body, NULL, on_added);
}
