/* SPDX-License-Identifier: MIT */
/* The master role: the operators' menu over tgfleet-apid. Add client (token, owner, name,
 * confirm), Clients (pages; one client: extend, suspend, resume, redeploy, remove, each
 * confirmed), Queue (pending, running and dead-lettered tasks, with retry) and Stats. Anyone not
 * in [Master] Operators= gets one polite refusal and then silence.
 *
 * Callback data: "cl:OFFSET" a page of clients; "c:ID" one client; "x:ACTION:ID" asks to confirm
 * ACTION, "y:ACTION:ID" does it; "e:ID" the extension choices, "ed:ID:DAYS" asks to confirm,
 * "ey:ID:DAYS" extends, "eo:ID" asks for a number of days; "add" adds the client entered;
 * "cancel"; "q" the queue; "rt:TASK" retries a task; "st" the stats. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot-api.h"
#include "json-util.h"
#include "keyboard.h"
#include "log.h"
#include "master.h"
#include "tenant.h"

#define CLIENTS_PAGE 8
#define QUEUE_LINES 15
#define RETRY_BUTTONS 5
#define NAME_MAX_CHARS 100
#define DAYS_MAX 3650
#define API_TOKEN_MAX 4096

static const char *const menu_labels[] = {
        N_("➕ Add client"), N_("📋 Clients"), N_("🗂 Queue"), N_("📊 Stats"),
};
enum { MENU_ADD, MENU_CLIENTS, MENU_QUEUE, MENU_STATS, _MENU_MAX };

static const struct {
        const char *action, *label, *question, *why, *yes, *queued;
} actions[] = {
        { "suspend", N_("⏸ Suspend"), N_("Suspend client #%" PRId64 " <b>%s</b>?"),
          N_("Its bot stops and its webhook is removed until you resume it."), N_("✅ Yes, suspend"),
          N_("Suspending client #%" PRId64 ": task <code>%s</code> is queued at position %" PRId64 "; I tell you here "
             "when it ends.") },
        { "resume", N_("▶️ Resume"), N_("Resume client #%" PRId64 " <b>%s</b>?"), N_("Its bot is deployed and started again."),
          N_("✅ Yes, resume"),
          N_("Resuming client #%" PRId64 ": task <code>%s</code> is queued at position %" PRId64 "; I tell you here "
             "when it ends.") },
        { "redeploy", N_("🔄 Redeploy"), N_("Redeploy client #%" PRId64 " <b>%s</b>?"),
          N_("Its bot is restarted with its webhook registered afresh."), N_("✅ Yes, redeploy"),
          N_("Redeploying client #%" PRId64 ": task <code>%s</code> is queued at position %" PRId64 "; I tell you here "
             "when it ends.") },
        { "remove", N_("🗑 Remove"), N_("Remove client #%" PRId64 " <b>%s</b>?"),
          N_("Its bot is stopped and its token deleted. This cannot be undone; the client stays in the audit log."),
          N_("✅ Yes, remove"),
          N_("Removing client #%" PRId64 ": task <code>%s</code> is queued at position %" PRId64 "; I tell you here "
             "when it ends.") },
};

/* --- texts ---------------------------------------------------------------------------------------- */

static json_object *master_menu(Lang l) {
        return menu_keyboard(l, menu_labels, _MENU_MAX);
}

static json_object *cancel_keyboard(Lang l) {
        return inline_keyboard(row(row(button(T(l, "✖️ Cancel"), "cancel"), NULL), NULL));
}

static json_object *back_keyboard(Lang l, int64_t client) {
        char data[32];

        snprintf(data, sizeof data, "c:%" PRId64, client);
        return inline_keyboard(row(row(button(T(l, "◀️ Back to the client"), data), NULL), NULL));
}

static const char *status_label(Lang l, const char *status) {
        static const struct { const char *status, *text; } map[] = {
                { "pending", N_("🕓 pending") },    { "deploying", N_("⚙️ deploying") },
                { "active", N_("✅ active") },      { "suspended", N_("⏸ suspended") },
                { "failed", N_("❌ deploy failed") }, { "removed", N_("🗑 removed") },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq_ptr(status, map[i].status))
                        return T(l, map[i].text);
        return strempty(status);
}

/* An API time ("2026-11-21T09:05:00Z") as the operator reads it; @none when it is null. */
static const char *api_time(Lang l, const char *iso, const char *none, char *buf, size_t size) {
        struct tm tm = {};
        const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

        if (!end || *end)
                return none;
        return format_time(l, (int64_t) timegm(&tm), buf, size);
}

/* Appends to the text in @buf (of @size bytes), cutting what does not fit. */
_printf_(3, 4) static void appendf(char *buf, size_t size, const char *format, ...) {
        size_t len = strnlen(buf, size);
        va_list ap;

        if (len + 1 >= size)
                return;
        va_start(ap, format);
        (void) vsnprintf(buf + len, size - len, format, ap);
        va_end(ap);
}

static bool is_command(const char *text, const char *name) {
        const char *rest = startswith(text, "/");

        rest = rest ? startswith(rest, name) : NULL;
        return rest && (*rest == 0 || *rest == ' ' || *rest == '@');
}

/* Says @text: as a pop-up for a button press, else as a message. */
static void say(Work *w, const char *text) {
        if (w->callback_id)
                (void) work_answer(w, text, true);
        else
                (void) work_send_text(w, text, NULL);
}

/* Whether the API refused or failed; if so writes why into @text (as HTML when @html). */
static bool api_refused(Work *w, const ApiAnswer *a, bool html, char *text, size_t size) {
        char escaped[512];

        if (a->error == 0 && a->status >= 200 && a->status < 300)
                return false;
        if (a->error < 0 || a->status >= 500)
                snprintf(text, size, "%s", T(w->lang, "⚠️ The control API is unavailable right now. Try again in a minute."));
        else if (streq_ptr(a->code, "not_found"))
                snprintf(text, size, "%s", T(w->lang, "⚠️ No such client or task (it may have been removed)."));
        else if (streq_ptr(a->code, "bot_taken"))
                snprintf(text, size, "%s", T(w->lang, "⚠️ This bot already belongs to a client."));
        else
                snprintf(text, size, T(w->lang, "⚠️ Refused: %s"),
                         html ? html_escape(strempty(a->message), escaped, sizeof escaped) : strempty(a->message));
        return true;
}

/* Whether the API refused or failed; if so tells the operator why (a pop-up for a press) and
 * ends the work. */
static bool api_failed(Work *w, const ApiAnswer *a) {
        char text[768];

        if (!api_refused(w, a, !w->callback_id, text, sizeof text))
                return false;
        say(w, text);
        work_commit(w);
        return true;
}

/* Reads "PREFIX<id>" or "PREFIX<id>:<rest>" from the pressed button; NULL when it is not. */
static const char *data_id(const char *data, const char *prefix, int64_t *ret_id) {
        const char *arg = startswith(strempty(data), prefix);
        char id[24];
        size_t n;

        if (!arg)
                return NULL;
        n = strcspn(arg, ":");
        if (n == 0 || n >= sizeof id)
                return NULL;
        memcpy(id, arg, n);
        id[n] = 0;
        if (tenant_id_parse(id, ret_id) < 0)
                return NULL;
        return arg + n + (arg[n] == ':');
}

/* --- the conversation -------------------------------------------------------------------------- */

static uint64_t now_usec(Work *w) {
        uint64_t now = 0;

        (void) sd_event_now(w->b->daemon.event, CLOCK_MONOTONIC, &now);
        return now;
}

/* Ends an add or an extension being entered, forgetting its token. */
static void flow_end(Work *w) {
        master_drop_token(w->b->master, w->chat);
        if (json_object_object_get_ex(w->state, "await", NULL))
                work_set_state(w, NULL);
}

static void show_welcome(Work *w) {
        (void) work_send_text(w, T(w->lang, "<b>Operator menu</b>\n"
                                            "➕ Add client: deploy a business's bot\n"
                                            "📋 Clients: extend, suspend, resume, redeploy, remove\n"
                                            "🗂 Queue: the deploy tasks (/queue)\n"
                                            "📊 Stats (/stats)\n\n"
                                            "/cancel stops what you are entering."),
                              master_menu(w->lang));
}

static void refuse(Work *w) {
        if (!json_object_object_get_ex(w->state, "refused", NULL)) {
                json_object *st = json_object_new_object();
                json_object_object_add(st, "refused", json_object_new_boolean(true));
                work_set_state(w, st);
                (void) work_send_text(w, T(w->lang, "Sorry, this bot serves the operators of this service only."), NULL);
        }
        work_commit(w);
}

/* --- add client ----------------------------------------------------------------------------------- */

static void ask_token(Work *w) {
        json_object *st = json_object_new_object();

        json_object_object_add(st, "await", json_object_new_string("token"));
        work_set_state(w, st);
        (void) work_send_text(w, T(w->lang, "<b>New client</b>, step 1 of 3.\nSend the bot's token from @BotFather. "
                                            "I delete your message with it at once; the token is kept only in the "
                                            "deploy worker's credential store."),
                              cancel_keyboard(w->lang));
        work_commit(w);
}

static void delete_message(Work *w) {
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
                master_hold_token(w->b->master, w->chat, token, now_usec(w));
                st = json_object_new_object();
                json_object_object_add(st, "await", json_object_new_string("owner"));
                json_object_object_add(st, "bot_username", json_object_new_string(username));
                work_set_state(w, st);
                snprintf(text, sizeof text, T(w->lang, "Bot @%s checked. Step 2 of 3: send the owner's Telegram user "
                                                       "id (a number; the owner can see it in @userinfobot)."),
                         html_escape(username, escaped, sizeof escaped));
                (void) work_send_text(w, text, cancel_keyboard(w->lang));
                return work_commit(w);
        }
        (void) work_send_text(w, text, cancel_keyboard(w->lang));
        work_commit(w);
}

static void handle_token(Work *w) {
        delete_message(w);
        if (!bot_token_valid(w->text)) {
                (void) work_send_text(w, T(w->lang, "That is not a bot token (they look like 123456789:AAE…). Send the "
                                                    "token again, or /cancel."),
                                      NULL);
                return work_commit(w);
        }
        if (bot_api_call(w->b->daemon.http, w->b->daemon.config.telegram_url, w->text, "getMe", NULL, on_get_me, w) < 0)
                on_get_me(&(BotApiResult) { .error = -ENOMEM }, w);
}

static void handle_owner(Work *w) {
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
                              cancel_keyboard(w->lang));
        work_commit(w);
}

static size_t utf8_chars(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char) *s & 0xC0) != 0x80;
        return n;
}

static void show_add_confirm(Work *w) {
        const char *username = strempty(json_get_string(w->state, "bot_username")), *name = json_get_string(w->state, "name");
        char text[1024], u[256], n[NAME_MAX_CHARS * 4 * 6];
        int64_t owner = 0;
        json_object *rows = json_object_new_array();

        (void) json_get_int64(w->state, "owner", &owner);
        snprintf(text, sizeof text, T(w->lang, "Add this client and deploy its bot?\n\nBot: @%s\nOwner: <code>%" PRId64
                                               "</code>\nName: <b>%s</b>"),
                 html_escape(username, u, sizeof u), owner, html_escape(strempty(name), n, sizeof n));
        json_object_array_add(rows, row(button(T(w->lang, "✅ Add"), "add"), button(T(w->lang, "✖️ Cancel"), "cancel")));
        (void) work_send_text(w, text, inline_keyboard(rows));
}

static void handle_name(Work *w) {
        const char *start = w->text + strspn(w->text, " \t\n");
        size_t len = strlen(start);
        char name[NAME_MAX_CHARS * 4 + 1];

        while (len > 0 && strchr(" \t\n", start[len - 1]))
                len--;
        if (len == 0 || len >= sizeof name) {
                (void) work_send_text(w, T(w->lang, "The name must have 1 to 100 characters. Send it again, or /cancel."), NULL);
                return work_commit(w);
        }
        memcpy(name, start, len);
        name[len] = 0;
        if (utf8_chars(name) > NAME_MAX_CHARS) {
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
        char text[1024], n[NAME_MAX_CHARS * 4 * 6], u[256], t[128];
        int64_t id = 0, position = 0;

        /* Refused for good: the flow ends, and the confirmation says why. Unavailable: the
         * operator may press ✅ Add again. */
        if (a->error == 0 && a->status >= 400 && a->status < 500 && api_refused(w, a, true, text, sizeof text)) {
                flow_end(w);
                (void) work_edit_text(w, text, NULL);
                return work_commit(w);
        }
        if (api_failed(w, a))
                return;
        flow_end(w);
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

static void add_confirmed(Work *w) {
        const Secret *token = master_held_token(w->b->master, w->chat, now_usec(w));
        _cleanup_(json_object_putp) json_object *body = NULL;
        int64_t owner = 0;

        if (!streq_ptr(json_get_string(w->state, "await"), "confirm")) {
                (void) work_answer(w, T(w->lang, "Nothing to add: this was done or cancelled already."), true);
                return work_commit(w);
        }
        if (!token) {
                flow_end(w);
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

/* --- clients -------------------------------------------------------------------------------------- */

static void show_clients(Work *w, int64_t offset);

static void on_clients(Work *w, const ApiAnswer *a) {
        char text[4096], line[768], n[NAME_MAX_CHARS * 4 * 6], u[256], until[64], data[32];
        json_object *items = NULL, *rows, *nav;
        int64_t total = 0, offset = 0;
        size_t count;

        if (api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "items", &items);
        (void) json_get_int64(a->json, "total", &total);
        (void) json_get_int64(a->json, "offset", &offset);
        count = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
        if (total == 0) {
                (void) work_send_text(w, T(w->lang, "No clients yet. Add one with ➕ Add client."), NULL);
                return work_commit(w);
        }
        if (count == 0 && offset > 0)
                return show_clients(w, 0);   /* a page gone since it was shown: the first one */
        text[0] = 0;
        appendf(text, sizeof text, T(w->lang, "<b>Clients</b> %" PRId64 "–%" PRId64 " of %" PRId64 "\n"), offset + 1,
                offset + (int64_t) count, total);
        rows = json_object_new_array();
        for (size_t i = 0; i < count; i++) {
                json_object *c = json_object_array_get_idx(items, i);
                int64_t id = 0;
                (void) json_get_int64(c, "id", &id);
                html_escape(strempty(json_get_string(c, "name")), n, sizeof n);
                snprintf(line, sizeof line, T(w->lang, "\n#%" PRId64 " <b>%s</b> @%s\n%s, paid until %s"), id, n,
                         html_escape(strempty(json_get_string(c, "bot_username")), u, sizeof u),
                         status_label(w->lang, json_get_string(c, "status")),
                         api_time(w->lang, json_get_string(c, "paid_until"), T(w->lang, "—"), until, sizeof until));
                appendf(text, sizeof text, "%s\n", line);
                snprintf(line, sizeof line, "#%" PRId64 " %s", id, strempty(json_get_string(c, "name")));
                snprintf(data, sizeof data, "c:%" PRId64, id);
                json_object_array_add(rows, row(button(line, data), NULL));
        }
        nav = json_object_new_array();
        if (offset > 0) {
                snprintf(data, sizeof data, "cl:%" PRId64, MAX(offset - CLIENTS_PAGE, (int64_t) 0));
                json_object_array_add(nav, button(T(w->lang, "◀️ Previous"), data));
        }
        if (offset + (int64_t) count < total) {
                snprintf(data, sizeof data, "cl:%" PRId64, offset + (int64_t) count);
                json_object_array_add(nav, button(T(w->lang, "Next ▶️"), data));
        }
        if (json_object_array_length(nav) > 0)
                json_object_array_add(rows, nav);
        else
                json_object_put(nav);
        (void) work_edit_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void show_clients(Work *w, int64_t offset) {
        char path[96];

        snprintf(path, sizeof path, "/api/clients?limit=%d&offset=%" PRId64, CLIENTS_PAGE, offset);
        master_api_call(w, "GET", path, NULL, NULL, on_clients);
}

static bool action_allowed(const char *action, const char *status) {
        static const struct { const char *action, *statuses; } rules[] = {
                /* As tenant_request() in migrations/0006_tenant_requests.sql decides. */
                { "suspend", " pending deploying active failed " },
                { "resume", " suspended failed " },
                { "redeploy", " deploying active failed " },
                { "remove", " pending deploying active suspended failed " },
        };
        char word[24];

        snprintf(word, sizeof word, " %s ", strempty(status));
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (streq(rules[i].action, action))
                        return strstr(rules[i].statuses, word);
        return false;
}

static void on_client(Work *w, const ApiAnswer *a) {
        const char *status = json_get_string(a->json, "status");
        char text[3072], n[NAME_MAX_CHARS * 4 * 6], u[256], tz[128], until[64], added[64], when[64], who[128], what[64];
        json_object *rows, *audit = NULL, *pair = NULL;
        int64_t id = 0, owner = 0;

        if (api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        (void) json_get_int64(a->json, "owner_id", &owner);
        snprintf(
                text, sizeof text,
                T(w->lang, "<b>#%" PRId64 " %s</b>\nBot: @%s\nOwner: <code>%" PRId64 "</code>\nStatus: %s\nPaid until: %s\n"
                           "Time zone: %s\nAdded: %s\n"),
                id, html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n),
                html_escape(strempty(json_get_string(a->json, "bot_username")), u, sizeof u), owner,
                status_label(w->lang, status),
                api_time(w->lang, json_get_string(a->json, "paid_until"), T(w->lang, "not paid"), until, sizeof until),
                html_escape(strempty(json_get_string(a->json, "time_zone")), tz, sizeof tz),
                api_time(w->lang, json_get_string(a->json, "created_at"), "—", added, sizeof added));
        json_object_object_get_ex(a->json, "audit", &audit);
        for (size_t i = 0; json_object_is_type(audit, json_type_array) && i < MIN(json_object_array_length(audit), 3u); i++) {
                json_object *e = json_object_array_get_idx(audit, i);
                if (i == 0)
                        appendf(text, sizeof text, "%s", T(w->lang, "\nLatest changes:"));
                appendf(text, sizeof text, "\n%s — %s — %s", api_time(w->lang, json_get_string(e, "at"), "—", when, sizeof when),
                        html_escape(strempty(json_get_string(e, "actor")), who, sizeof who),
                        html_escape(strempty(json_get_string(e, "action")), what, sizeof what));
        }
        rows = json_object_new_array();
        if (!streq_ptr(status, "removed")) {
                char data[48];
                snprintf(data, sizeof data, "e:%" PRId64, id);
                json_object_array_add(rows, row(button(T(w->lang, "➕ Extend"), data), NULL));
        }
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                char data[48];
                if (!action_allowed(actions[i].action, status))
                        continue;
                snprintf(data, sizeof data, "x:%s:%" PRId64, actions[i].action, id);
                if (!pair) {
                        pair = button(T(w->lang, actions[i].label), data);
                        continue;
                }
                json_object_array_add(rows, row(pair, button(T(w->lang, actions[i].label), data)));
                pair = NULL;
        }
        if (pair)
                json_object_array_add(rows, row(pair, NULL));
        json_object_array_add(rows, row(button(T(w->lang, "◀️ Clients"), "cl:0"), NULL));
        (void) work_edit_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void show_client(Work *w, int64_t id, ApiFn fn) {
        char path[64];

        snprintf(path, sizeof path, "/api/clients/%" PRId64, id);
        master_api_call(w, "GET", path, NULL, NULL, fn);
}

/* --- actions on a client -------------------------------------------------------------------------- */

/* The action in "x:ACTION:ID" or "y:ACTION:ID", and its client; -1 when @data names none. */
static int data_action(const char *data, int64_t *ret_id) {
        const char *action = data + 2;
        size_t n = strcspn(action, ":");

        if (!startswith(data, "x:") && !startswith(data, "y:"))
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (strlen(actions[i].action) == n && strncmp(action, actions[i].action, n) == 0 && action[n] == ':' &&
                    tenant_id_parse(action + n + 1, ret_id) == 0)
                        return (int) i;
        return -1;
}

/* "x:ACTION:ID": the client, fetched, and the question. */
static void on_action_asked(Work *w, const ApiAnswer *a) {
        int64_t ignored;
        int i = data_action(w->callback_data, &ignored);
        char text[1024], n[NAME_MAX_CHARS * 4 * 6], yes[64], no[32];
        int64_t id = 0;
        json_object *rows;

        if (api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        snprintf(text, sizeof text, T(w->lang, actions[i].question), id,
                 html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n));
        appendf(text, sizeof text, "\n%s", T(w->lang, actions[i].why));
        snprintf(yes, sizeof yes, "y:%s:%" PRId64, actions[i].action, id);
        snprintf(no, sizeof no, "c:%" PRId64, id);
        rows = json_object_new_array();
        json_object_array_add(rows, row(button(T(w->lang, actions[i].yes), yes), button(T(w->lang, "✖️ No"), no)));
        (void) work_edit_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void on_acted(Work *w, const ApiAnswer *a) {
        int64_t ignored;
        int i = data_action(w->callback_data, &ignored);
        json_object *client = NULL, *task = NULL;
        char text[768], t[128];
        int64_t id = 0, position = 0;

        if (api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "client", &client);
        json_object_object_get_ex(a->json, "task", &task);
        (void) json_get_int64(client, "id", &id);
        (void) json_get_int64(task, "position", &position);
        snprintf(text, sizeof text, T(w->lang, actions[i].queued), id,
                 html_escape(strempty(json_get_string(task, "id")), t, sizeof t), position);
        (void) work_edit_text(w, text, back_keyboard(w->lang, id));
        work_commit(w);
}

static void act(Work *w, const char *action, int64_t id) {
        char path[96];

        if (streq(action, "remove")) {
                snprintf(path, sizeof path, "/api/clients/%" PRId64, id);
                return master_api_call(w, "DELETE", path, NULL, NULL, on_acted);
        }
        snprintf(path, sizeof path, "/api/clients/%" PRId64 "/%s", id, action);
        master_api_call(w, "POST", path, NULL, NULL, on_acted);
}

/* --- extension ------------------------------------------------------------------------------------ */

static void show_extend_choices(Work *w, int64_t id) {
        static const int choices[] = { 30, 90, 180, 365 };
        json_object *rows = json_object_new_array(), *r = NULL;
        char text[256], label[64], data[48];

        for (size_t i = 0; i < ELEMENTSOF(choices); i++) {
                snprintf(label, sizeof label, TN(w->lang, "%d day", "%d days", choices[i]), choices[i]);
                snprintf(data, sizeof data, "ed:%" PRId64 ":%d", id, choices[i]);
                if (!r)
                        r = button(label, data);
                else {
                        json_object_array_add(rows, row(r, button(label, data)));
                        r = NULL;
                }
        }
        snprintf(data, sizeof data, "eo:%" PRId64, id);
        json_object_array_add(rows, row(button(T(w->lang, "✏️ Other"), data), NULL));
        snprintf(data, sizeof data, "c:%" PRId64, id);
        json_object_array_add(rows, row(button(T(w->lang, "◀️ Back to the client"), data), NULL));
        snprintf(text, sizeof text, T(w->lang, "Extend client #%" PRId64 " by how long? Days count from the end of the "
                                               "paid time, or from now if it has passed."),
                 id);
        (void) work_edit_text(w, text, inline_keyboard(rows));
}

static void show_extend_confirm(Work *w, int64_t id, int64_t days) {
        char text[256], label[64], yes[64], no[32];
        json_object *rows = json_object_new_array();

        snprintf(label, sizeof label, TN(w->lang, "%d day", "%d days", days), (int) days);
        snprintf(text, sizeof text, T(w->lang, "Extend client #%" PRId64 " by %s?"), id, label);
        snprintf(yes, sizeof yes, "ey:%" PRId64 ":%" PRId64, id, days);
        snprintf(no, sizeof no, "c:%" PRId64, id);
        json_object_array_add(rows, row(button(T(w->lang, "✅ Yes, extend"), yes), button(T(w->lang, "✖️ No"), no)));
        (void) work_edit_text(w, text, inline_keyboard(rows));
}

static void on_extended(Work *w, const ApiAnswer *a) {
        char text[768], n[NAME_MAX_CHARS * 4 * 6], until[64];
        int64_t id = 0;

        if (api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        snprintf(text, sizeof text, T(w->lang, "✅ Client #%" PRId64 " <b>%s</b> is paid until %s."), id,
                 html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n),
                 api_time(w->lang, json_get_string(a->json, "paid_until"), "—", until, sizeof until));
        (void) work_edit_text(w, text, back_keyboard(w->lang, id));
        work_commit(w);
}

static void extend(Work *w, int64_t id, int64_t days) {
        _cleanup_(json_object_putp) json_object *body = json_object_new_object();
        char path[96], key[128];

        /* One confirmation message extends once, however often it is pressed or handled. */
        snprintf(key, sizeof key, "master:%" PRId64 ":%" PRId64 ":%" PRId64 ":%" PRId64, w->chat, w->callback_message, id, days);
        snprintf(path, sizeof path, "/api/clients/%" PRId64 "/extend", id);
        json_object_object_add(body, "days", json_object_new_int64(days));
        master_api_call(w, "POST", path, body, key, on_extended);
}

static void ask_days(Work *w, int64_t id) {
        json_object *st = json_object_new_object();
        char text[256];

        json_object_object_add(st, "await", json_object_new_string("days"));
        json_object_object_add(st, "client", json_object_new_int64(id));
        work_set_state(w, st);
        snprintf(text, sizeof text, T(w->lang, "Send the number of days (1 to %d) to extend client #%" PRId64 " by."), DAYS_MAX, id);
        (void) work_edit_text(w, text, cancel_keyboard(w->lang));
}

static void handle_days(Work *w) {
        int64_t id = 0, days;
        char *end;

        (void) json_get_int64(w->state, "client", &id);
        errno = 0;
        days = strtoll(w->text, &end, 10);
        if (errno != 0 || end == w->text || *end || days < 1 || days > DAYS_MAX) {
                char text[256];
                snprintf(text, sizeof text, T(w->lang, "Send a whole number of days from 1 to %d, or /cancel."), DAYS_MAX);
                (void) work_send_text(w, text, NULL);
                return work_commit(w);
        }
        flow_end(w);
        show_extend_confirm(w, id, days);
        work_commit(w);
}

/* --- queue and stats ------------------------------------------------------------------------------- */

static void on_queue(Work *w, const ApiAnswer *a) {
        char text[4096], line[768], err[512], data[80], label[96];
        json_object *tasks = NULL, *counts = NULL, *rows = json_object_new_array();
        int64_t queued = 0, running = 0, retrying = 0, dead = 0;
        size_t shown = 0, buttons = 0, n;

        if (api_failed(w, a)) {
                json_object_put(rows);
                return;
        }
        json_object_object_get_ex(a->json, "tasks", &tasks);
        json_object_object_get_ex(a->json, "counts", &counts);
        (void) json_get_int64(counts, "queued", &queued);
        (void) json_get_int64(counts, "running", &running);
        (void) json_get_int64(counts, "retrying", &retrying);
        (void) json_get_int64(counts, "dead", &dead);
        snprintf(text, sizeof text,
                                T(w->lang, "<b>Deploy queue</b>\nQueued %" PRId64 ", running %" PRId64 ", retrying %" PRId64
                                           ", dead-lettered %" PRId64 "\n"),
                                queued, running, retrying, dead);
        n = json_object_is_type(tasks, json_type_array) ? json_object_array_length(tasks) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(tasks, i);
                const char *status = strempty(json_get_string(t, "status")), *id = strempty(json_get_string(t, "id"));
                const char *action = strempty(json_get_string(t, "action"));
                int64_t client = 0, attempts = 0, position = 0;

                if (streq(status, "done"))
                        continue;
                if (shown++ >= QUEUE_LINES)
                        continue;
                (void) json_get_int64(t, "client_id", &client);
                (void) json_get_int64(t, "attempts", &attempts);
                (void) json_get_int64(t, "position", &position);
                html_escape(strempty(json_get_string(t, "error")), err, sizeof err);
                if (streq(status, "queued"))
                        snprintf(line, sizeof line, T(w->lang, "⏳ <code>%s</code> %s #%" PRId64 ": position %" PRId64), id,
                                 action, client, position);
                else if (streq(status, "running"))
                        snprintf(line, sizeof line, T(w->lang, "▶️ <code>%s</code> %s #%" PRId64 ": running"), id, action,
                                 client);
                else if (streq(status, "retrying"))
                        snprintf(line, sizeof line, T(w->lang, "🔁 <code>%s</code> %s #%" PRId64 ": attempt %" PRId64
                                                               " failed, retrying: %s"),
                                 id, action, client, attempts, err);
                else
                        snprintf(line, sizeof line, T(w->lang, "💀 <code>%s</code> %s #%" PRId64 ": dead after %" PRId64
                                                               " attempt(s): %s"),
                                 id, action, client, attempts, err);
                appendf(text, sizeof text, "\n%s", line);
                if (streq(status, "dead") && buttons < RETRY_BUTTONS && strlen(id) < sizeof data - 4) {
                        snprintf(data, sizeof data, "rt:%s", id);
                        snprintf(label, sizeof label, T(w->lang, "🔁 Retry %s (%s #%" PRId64 ")"), id, action, client);
                        json_object_array_add(rows, row(button(label, data), NULL));
                        buttons++;
                }
        }
        if (shown == 0)
                appendf(text, sizeof text, "%s", T(w->lang, "\nNothing pending."));
        else if (shown > QUEUE_LINES)
                appendf(text, sizeof text, T(w->lang, "\n… and %zu more (tgfleetctl queue shows all)."), shown - QUEUE_LINES);
        json_object_array_add(rows, row(button(T(w->lang, "🔄 Refresh"), "q"), NULL));
        (void) work_edit_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void on_retried(Work *w, const ApiAnswer *a) {
        json_object *task = NULL;
        char text[512], t[128];
        int64_t position = 0;

        if (api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "task", &task);
        (void) json_get_int64(task, "position", &position);
        snprintf(text, sizeof text, T(w->lang, "🔁 Task <code>%s</code> is queued again at position %" PRId64 "."),
                 html_escape(strempty(json_get_string(task, "id")), t, sizeof t), position);
        (void) work_edit_text(w, text, inline_keyboard(row(row(button(T(w->lang, "🗂 Queue"), "q"), NULL), NULL)));
        work_commit(w);
}

static void on_stats(Work *w, const ApiAnswer *a) {
        static const char *const statuses[] = { "active", "deploying", "pending", "suspended", "failed" };
        char text[2048];
        json_object *clients = NULL;
        int64_t deploys = 0, failures = 0, expiring = 0, total = 0;

        if (api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "clients", &clients);
        for (size_t i = 0; i < ELEMENTSOF(statuses); i++) {
                int64_t v = 0;
                (void) json_get_int64(clients, statuses[i], &v);
                total += v;
        }
        snprintf(text, sizeof text, T(w->lang, "<b>Stats</b>\nClients: %" PRId64), total);
        for (size_t i = 0; i < ELEMENTSOF(statuses); i++) {
                int64_t v = 0;
                (void) json_get_int64(clients, statuses[i], &v);
                appendf(text, sizeof text, "\n  %s: %" PRId64, status_label(w->lang, statuses[i]), v);
        }
        (void) json_get_int64(a->json, "deploys_today", &deploys);
        (void) json_get_int64(a->json, "failures_today", &failures);
        (void) json_get_int64(a->json, "expiring_in_7_days", &expiring);
        appendf(text, sizeof text, T(w->lang, "\nDeploys today: %" PRId64 "\nFailures today: %" PRId64
                                             "\nPaid time ending within 7 days: %" PRId64 "\n(today: since 00:00 UTC)"),
                deploys, failures, expiring);
        (void) work_edit_text(w, text, inline_keyboard(row(row(button(T(w->lang, "🔄 Refresh"), "st"), NULL), NULL)));
        work_commit(w);
}

/* --- dispatch ------------------------------------------------------------------------------------- */

/* A menu item, by its label or its command (/add, /clients, /queue, /stats); or -1. */
static int menu_from_text(const char *t) {
        static const char *const commands[_MENU_MAX] = { "add", "clients", "queue", "stats" };

        for (int i = 0; i < _MENU_MAX; i++)
                if (is_command(t, commands[i]))
                        return i;
        return menu_pick(t, menu_labels, _MENU_MAX);
}

static void handle_text(Work *w) {
        const char *t = w->text, *await = json_get_string(w->state, "await");
        int item;

        if (!t) {
                (void) work_send_text(w, T(w->lang, "I understand text and the buttons below."), master_menu(w->lang));
                return work_commit(w);
        }
        if (is_command(t, "start") || is_command(t, "help")) {
                flow_end(w);
                show_welcome(w);
                return work_commit(w);
        }
        if (is_command(t, "cancel")) {
                flow_end(w);
                (void) work_send_text(w, T(w->lang, "Cancelled."), master_menu(w->lang));
                return work_commit(w);
        }
        item = menu_from_text(t);
        if (item >= 0)
                flow_end(w);   /* a menu item ends what was being entered */
        switch (item) {
        case MENU_ADD:
                return ask_token(w);
        case MENU_CLIENTS:
                return show_clients(w, 0);
        case MENU_QUEUE:
                return master_api_call(w, "GET", "/api/queue", NULL, NULL, on_queue);
        case MENU_STATS:
                return master_api_call(w, "GET", "/api/stats", NULL, NULL, on_stats);
        }
        if (streq_ptr(await, "token"))
                return handle_token(w);
        if (streq_ptr(await, "owner"))
                return handle_owner(w);
        if (streq_ptr(await, "name"))
                return handle_name(w);
        if (streq_ptr(await, "days"))
                return handle_days(w);
        if (streq_ptr(await, "confirm")) {
                (void) work_send_text(w, T(w->lang, "Press ✅ Add or ✖️ Cancel above."), NULL);
                return work_commit(w);
        }
        if (bot_token_valid(t)) {
                /* A token out of turn: it does not stay in the chat. */
                delete_message(w);
                (void) work_send_text(w, T(w->lang, "That looks like a bot token; I deleted it from the chat. To add a "
                                                    "client, use ➕ Add client first."),
                                      master_menu(w->lang));
                return work_commit(w);
        }
        (void) work_send_text(w, T(w->lang, "I did not understand that. Use the menu below, or /help."), master_menu(w->lang));
        work_commit(w);
}

static void handle_button(Work *w) {
        const char *d = strempty(w->callback_data), *rest;
        int64_t id, days;
        int i;

        if (streq(d, "add"))
                return add_confirmed(w);
        if (streq(d, "cancel")) {
                flow_end(w);
                (void) work_edit_text(w, T(w->lang, "Cancelled."), NULL);
                return work_commit(w);
        }
        if (streq(d, "q"))
                return master_api_call(w, "GET", "/api/queue", NULL, NULL, on_queue);
        if (streq(d, "st"))
                return master_api_call(w, "GET", "/api/stats", NULL, NULL, on_stats);
        if ((rest = startswith(d, "rt:")) && *rest && strlen(rest) < 64 && strspn(rest, "0123456789-") == strlen(rest)) {
                char path[128];
                snprintf(path, sizeof path, "/api/queue/%s/retry", rest);
                return master_api_call(w, "POST", path, NULL, NULL, on_retried);
        }
        if ((rest = startswith(d, "cl:")) && (streq(rest, "0") || tenant_id_parse(rest, &id) == 0))
                return show_clients(w, streq(rest, "0") ? 0 : id);
        if ((rest = data_id(d, "c:", &id)) && !*rest)
                return show_client(w, id, on_client);
        if ((rest = data_id(d, "e:", &id)) && !*rest) {
                show_extend_choices(w, id);
                return work_commit(w);
        }
        if ((rest = data_id(d, "eo:", &id)) && !*rest) {
                ask_days(w, id);
                return work_commit(w);
        }
        if ((rest = data_id(d, "ed:", &id)) && (days = strtoll(rest, NULL, 10)) >= 1 && days <= DAYS_MAX) {
                show_extend_confirm(w, id, days);
                return work_commit(w);
        }
        if ((rest = data_id(d, "ey:", &id)) && (days = strtoll(rest, NULL, 10)) >= 1 && days <= DAYS_MAX)
                return extend(w, id, days);
        if ((i = data_action(d, &id)) >= 0)
                return d[0] == 'x' ? show_client(w, id, on_action_asked) : act(w, actions[i].action, id);
        (void) work_answer(w, T(w->lang, "This button is no longer valid."), false);
        work_commit(w);
}

static bool is_operator(const Botd *b, int64_t user) {
        return idlist_contains(&b->daemon.config.master_operators, user);
}

static void master_handle_update(Work *w) {
        if (!is_operator(w->b, w->user))
                return refuse(w);
        if (w->callback_id)
                handle_button(w);
        else
                handle_text(w);
}

static void master_handle_event(Work *w) {
        work_commit(w);
}

/* --- setup ------------------------------------------------------------------------------------------ */

static void master_done(Botd *b) {
        Master *m = b->master;

        if (!m)
                return;
        master_drop_all_tokens(m);
        secret_free(m->api_token);
        free(m);
        b->master = NULL;
}

/* What the master bot needs of @c, and the api-token credential. */
static int master_check(const Config *c, Secret **ret_api_token) {
        int r;

        if (c->master_operators.n == 0)
                return log_error_errno(EINVAL, "[Master] Operators= is empty: nobody could use the master bot. "
                                               "List the operators' Telegram user ids.");
        if (isempty(c->api_url))
                return log_error_errno(EINVAL, "[API] URL= is empty: the master bot works through tgfleet-apid.");
        r = creds_read("api-token", API_TOKEN_MAX, ret_api_token);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential api-token: %m");
        return 0;
}

static int master_setup(Botd *b) {
        int r;

        b->master = calloc(1, sizeof *b->master);
        if (!b->master)
                return log_oom();
        r = master_check(&b->daemon.config, &b->master->api_token);
        if (r < 0)
                return r;
        log_info("Master bot for %zu operator(s), through the API at %s.", b->daemon.config.master_operators.n,
                 b->daemon.config.api_url);
        return 0;
}

/* SIGHUP: the operators and the API's address come with the configuration; a rotated api-token is
 * read again. */
static int master_reload(Botd *b, const Config *next) {
        Secret *t = NULL;
        int r = master_check(next, &t);

        if (r < 0)
                return r;
        secret_free(b->master->api_token);
        b->master->api_token = t;
        return 0;
}

const BotRole master_role = {
        .name = "master",
        .setup = master_setup,
        .reload = master_reload,
        .done = master_done,
        .handle_update = master_handle_update,
        .handle_event = master_handle_event,
        .trusted = is_operator,   /* the request limit is for strangers */
        .erase_updates = true,
};
