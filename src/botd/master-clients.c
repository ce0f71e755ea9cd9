/* SPDX-License-Identifier: MIT */
/* "📋 Clients": pages of clients, one client with its latest changes, and what an operator does
 * to it (suspend, resume, redeploy, remove: each asked to confirm; extend by a chosen or typed
 * number of days, once per confirmation however often it is pressed). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "keyboard.h"
#include "master-flows.h"
#include "tenant.h"

#define CLIENTS_PAGE 8
#define DAYS_MAX 3650

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


static void on_clients(Work *w, const ApiAnswer *a) {
        char text[4096], line[768], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[256], until[64], data[32];
        json_object *items = NULL, *rows, *nav;
        int64_t total = 0, offset = 0;
        size_t count;

        if (master_api_failed(w, a))
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
                return master_show_clients(w, 0);   /* a page gone since it was shown: the first one */
        text[0] = 0;
        text_appendf(text, sizeof text, T(w->lang, "<b>Clients</b> %" PRId64 "–%" PRId64 " of %" PRId64 "\n"), offset + 1,
                offset + (int64_t) count, total);
        rows = json_object_new_array();
        for (size_t i = 0; i < count; i++) {
                json_object *c = json_object_array_get_idx(items, i);
                int64_t id = 0;
                (void) json_get_int64(c, "id", &id);
                html_escape(strempty(json_get_string(c, "name")), n, sizeof n);
                snprintf(line, sizeof line, T(w->lang, "\n#%" PRId64 " <b>%s</b> @%s\n%s, paid until %s"), id, n,
                         html_escape(strempty(json_get_string(c, "bot_username")), u, sizeof u),
                         master_status_label(w->lang, json_get_string(c, "status")),
                         master_api_time(w->lang, json_get_string(c, "paid_until"), T(w->lang, "—"), until, sizeof until));
                text_appendf(text, sizeof text, "%s\n", line);
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

void master_show_clients(Work *w, int64_t offset) {
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

/* The client's plan, auto-renewal and latest payments, on its card. */
static void append_subscription(Work *w, json_object *client, char *text, size_t size) {
        json_object *payments = NULL, *renews = NULL;
        char when[64], id[64];
        int64_t plan = 0;

        if (json_get_int64(client, "plan_days", &plan) == 0 && plan > 0)
                text_appendf(text, size, T(w->lang, "Plan: %" PRId64 " days"), plan);
        json_object_object_get_ex(client, "auto_renew", &renews);
        if (json_object_get_boolean(renews))
                text_appendf(text, size, "%s", T(w->lang, ", renews automatically"));
        if (plan > 0 || json_object_get_boolean(renews))
                text_appendf(text, size, "\n");
        json_object_object_get_ex(client, "payments", &payments);
        for (size_t i = 0; json_object_is_type(payments, json_type_array) && i < MIN(json_object_array_length(payments), 3u); i++) {
                json_object *p = json_object_array_get_idx(payments, i);
                char amount[64];
                if (i == 0)
                        text_appendf(text, size, "%s", T(w->lang, "Latest payments:"));
                if (json_object_get_boolean(json_object_object_get(p, "trial")))
                        snprintf(amount, sizeof amount, "%s", T(w->lang, "free trial"));
                else
                        snprintf(amount, sizeof amount, "%s %s", strempty(json_get_string(p, "amount")),
                                 strempty(json_get_string(p, "currency")));
                text_appendf(text, size, "\n%s — %s — %s — <code>%s</code>",
                             master_api_time(w->lang, json_get_string(p, "paid_at") ?: json_get_string(p, "created_at"), "—",
                                             when, sizeof when),
                             amount, strempty(json_get_string(p, "status")),
                             html_escape(strempty(json_get_string(p, "id")), id, sizeof id));
        }
        if (json_object_array_length(payments) > 0)
                text_appendf(text, size, "\n");
}

static void on_client(Work *w, const ApiAnswer *a) {
        const char *status = json_get_string(a->json, "status");
        char text[3072], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[256], tz[128], until[64], added[64], when[64], who[128], what[64];
        json_object *rows, *audit = NULL, *pair = NULL;
        int64_t id = 0, owner = 0;

        if (master_api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        (void) json_get_int64(a->json, "owner_id", &owner);
        snprintf(
                text, sizeof text,
                T(w->lang, "<b>#%" PRId64 " %s</b>\nBot: @%s\nOwner: <code>%" PRId64 "</code>\nStatus: %s\nPaid until: %s\n"
                           "Time zone: %s\nAdded: %s\n"),
                id, html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n),
                html_escape(strempty(json_get_string(a->json, "bot_username")), u, sizeof u), owner,
                master_status_label(w->lang, status),
                master_api_time(w->lang, json_get_string(a->json, "paid_until"), T(w->lang, "not paid"), until, sizeof until),
                html_escape(strempty(json_get_string(a->json, "time_zone")), tz, sizeof tz),
                master_api_time(w->lang, json_get_string(a->json, "created_at"), "—", added, sizeof added));
        append_subscription(w, a->json, text, sizeof text);
        json_object_object_get_ex(a->json, "audit", &audit);
        for (size_t i = 0; json_object_is_type(audit, json_type_array) && i < MIN(json_object_array_length(audit), 3u); i++) {
                json_object *e = json_object_array_get_idx(audit, i);
                if (i == 0)
                        text_appendf(text, sizeof text, "%s", T(w->lang, "\nLatest changes:"));
                text_appendf(text, sizeof text, "\n%s — %s — %s", master_api_time(w->lang, json_get_string(e, "at"), "—", when, sizeof when),
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
        char text[1024], n[TENANT_NAME_MAX_CHARS * 4 * 6], yes[64], no[32];
        int64_t id = 0;
        json_object *rows;

        if (master_api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        snprintf(text, sizeof text, T(w->lang, actions[i].question), id,
                 html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n));
        text_appendf(text, sizeof text, "\n%s", T(w->lang, actions[i].why));
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

        if (master_api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "client", &client);
        json_object_object_get_ex(a->json, "task", &task);
        (void) json_get_int64(client, "id", &id);
        (void) json_get_int64(task, "position", &position);
        snprintf(text, sizeof text, T(w->lang, actions[i].queued), id,
                 html_escape(strempty(json_get_string(task, "id")), t, sizeof t), position);
        (void) work_edit_text(w, text, master_back_keyboard(w->lang, id));
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
        char text[768], n[TENANT_NAME_MAX_CHARS * 4 * 6], until[64];
        int64_t id = 0;

        if (master_api_failed(w, a))
                return;
        (void) json_get_int64(a->json, "id", &id);
        snprintf(text, sizeof text, T(w->lang, "✅ Client #%" PRId64 " <b>%s</b> is paid until %s."), id,
                 html_escape(strempty(json_get_string(a->json, "name")), n, sizeof n),
                 master_api_time(w->lang, json_get_string(a->json, "paid_until"), "—", until, sizeof until));
        (void) work_edit_text(w, text, master_back_keyboard(w->lang, id));
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
        (void) work_edit_text(w, text, master_cancel_keyboard(w->lang));
}

void master_extend_days(Work *w) {
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
        master_flow_end(w);
        show_extend_confirm(w, id, days);
        work_commit(w);
}

bool master_clients_button(Work *w, const char *d) {
        const char *rest;
        int64_t id, days;
        int i;

        if ((rest = startswith(d, "cl:")) && (streq(rest, "0") || tenant_id_parse(rest, &id) == 0)) {
                master_show_clients(w, streq(rest, "0") ? 0 : id);
                return true;
        }
        if ((rest = master_data_id(d, "c:", &id)) && !*rest) {
                show_client(w, id, on_client);
                return true;
        }
        if ((rest = master_data_id(d, "e:", &id)) && !*rest) {
                show_extend_choices(w, id);
                work_commit(w);
                return true;
        }
        if ((rest = master_data_id(d, "eo:", &id)) && !*rest) {
                ask_days(w, id);
                work_commit(w);
                return true;
        }
        if ((rest = master_data_id(d, "ed:", &id)) && (days = strtoll(rest, NULL, 10)) >= 1 && days <= DAYS_MAX) {
                show_extend_confirm(w, id, days);
                work_commit(w);
                return true;
        }
        if ((rest = master_data_id(d, "ey:", &id)) && (days = strtoll(rest, NULL, 10)) >= 1 && days <= DAYS_MAX) {
                extend(w, id, days);
                return true;
        }
        if ((i = data_action(d, &id)) < 0)
                return false;
        if (d[0] == 'x')
                show_client(w, id, on_action_asked);
        else
                act(w, actions[i].action, id);
        return true;
}
