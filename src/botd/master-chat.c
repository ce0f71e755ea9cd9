/* SPDX-License-Identifier: MIT */
/* What the master role's flows share: keyboards, status and time texts, answers to a failed API
 * call, the buttons' ids and the end of a flow. */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "keyboard.h"
#include "master-flows.h"
#include "tenant.h"

json_object *master_cancel_keyboard(Lang l) {
        return inline_keyboard(row(row(button(T(l, "✖️ Cancel"), "cancel"), NULL), NULL));
}

json_object *master_back_keyboard(Lang l, int64_t client) {
        char data[32];

        snprintf(data, sizeof data, "c:%" PRId64, client);
        return inline_keyboard(row(row(button(T(l, "◀️ Back to the client"), data), NULL), NULL));
}

const char *master_status_label(Lang l, const char *status) {
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

const char *master_api_time(Lang l, const char *iso, const char *none, char *buf, size_t size) {
        struct tm tm = {};
        const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

        if (!end || *end)
                return none;
        return format_time(l, (int64_t) timegm(&tm), buf, size);
}

void master_say(Work *w, const char *text) {
        if (w->callback_id)
                (void) work_answer(w, text, true);
        else
                (void) work_send_text(w, text, NULL);
}

bool master_api_refused(Work *w, const ApiAnswer *a, bool html, char *text, size_t size) {
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

bool master_api_failed(Work *w, const ApiAnswer *a) {
        char text[768];

        if (!master_api_refused(w, a, !w->callback_id, text, sizeof text))
                return false;
        master_say(w, text);
        work_commit(w);
        return true;
}

const char *master_data_id(const char *data, const char *prefix, int64_t *ret_id) {
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

uint64_t master_now(Work *w) {
        uint64_t now = 0;

        (void) sd_event_now(w->b->daemon.event, CLOCK_MONOTONIC, &now);
        return now;
}

void master_flow_end(Work *w) {
        master_drop_token(w->b->master, w->chat);
        if (json_object_object_get_ex(w->state, "await", NULL))
                work_set_state(w, NULL);
}
