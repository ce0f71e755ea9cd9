/* SPDX-License-Identifier: MIT */
/* "🗂 Queue" and "📊 Stats": the deploy tasks not done yet (a dead one with a retry button) and
 * the counts of clients and deploys. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "keyboard.h"
#include "master-flows.h"

#define QUEUE_LINES 15
#define RETRY_BUTTONS 5

static void on_queue(Work *w, const ApiAnswer *a) {
        char text[4096], line[768], err[512], data[80], label[96];
        json_object *tasks = NULL, *counts = NULL, *rows = json_object_new_array();
        int64_t queued = 0, running = 0, retrying = 0, dead = 0;
        size_t shown = 0, buttons = 0, n;

        if (master_api_failed(w, a)) {
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
                text_appendf(text, sizeof text, "\n%s", line);
                if (streq(status, "dead") && buttons < RETRY_BUTTONS && strlen(id) < sizeof data - 4) {
                        snprintf(data, sizeof data, "rt:%s", id);
                        snprintf(label, sizeof label, T(w->lang, "🔁 Retry %s (%s #%" PRId64 ")"), id, action, client);
                        json_object_array_add(rows, row(button(label, data), NULL));
                        buttons++;
                }
        }
        if (shown == 0)
                text_appendf(text, sizeof text, "%s", T(w->lang, "\nNothing pending."));
        else if (shown > QUEUE_LINES)
                text_appendf(text, sizeof text, T(w->lang, "\n… and %zu more (tgfleetctl queue shows all)."), shown - QUEUE_LINES);
        json_object_array_add(rows, row(button(T(w->lang, "🔄 Refresh"), "q"), NULL));
        (void) work_edit_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void on_retried(Work *w, const ApiAnswer *a) {
        json_object *task = NULL;
        char text[512], t[128];
        int64_t position = 0;

        if (master_api_failed(w, a))
                return;
        json_object_object_get_ex(a->json, "task", &task);
        (void) json_get_int64(task, "position", &position);
        snprintf(text, sizeof text, T(w->lang, "🔁 Task <code>%s</code> is queued again at position %" PRId64 "."),
                 html_escape(strempty(json_get_string(task, "id")), t, sizeof t), position);
        (void) work_edit_text(w, text, inline_keyboard(row(row(button(T(w->lang, "🗂 Queue"), "q"), NULL), NULL)));
        work_commit(w);
}

/* Subscriptions: revenue by currency, new clients, renewals and churn. */
static void append_revenue(Work *w, json_object *stats, char *text, size_t size) {
        static const struct { const char *key, *label; } money[] = {
                { "revenue_today", N_("\nRevenue today:") }, { "revenue_30_days", N_("\nRevenue, 30 days:") },
        };
        int64_t created = 0, renewed = 0, churned = 0;

        for (size_t i = 0; i < ELEMENTSOF(money); i++) {
                json_object *by = NULL;
                text_appendf(text, size, "%s", T(w->lang, money[i].label));
                json_object_object_get_ex(stats, money[i].key, &by);
                if (!json_object_is_type(by, json_type_object) || json_object_object_length(by) == 0)
                        text_appendf(text, size, " 0");
                json_object_object_foreach(by, currency, amount)
                        text_appendf(text, size, " %s %s", json_object_get_string(amount), currency);
        }
        (void) json_get_int64(stats, "new_clients_30_days", &created);
        (void) json_get_int64(stats, "renewals_30_days", &renewed);
        (void) json_get_int64(stats, "churned_30_days", &churned);
        text_appendf(text, size, T(w->lang, "\nIn 30 days: %" PRId64 " new, %" PRId64 " renewals, %" PRId64 " stopped unpaid"),
                     created, renewed, churned);
}

static void on_stats(Work *w, const ApiAnswer *a) {
        static const char *const statuses[] = { "active", "deploying", "pending", "suspended", "failed" };
        char text[2048];
        json_object *clients = NULL;
        int64_t deploys = 0, failures = 0, expiring = 0, total = 0;

        if (master_api_failed(w, a))
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
                text_appendf(text, sizeof text, "\n  %s: %" PRId64, master_status_label(w->lang, statuses[i]), v);
        }
        (void) json_get_int64(a->json, "deploys_today", &deploys);
        (void) json_get_int64(a->json, "failures_today", &failures);
        (void) json_get_int64(a->json, "expiring_in_7_days", &expiring);
        text_appendf(text, sizeof text, T(w->lang, "\nDeploys today: %" PRId64 "\nFailures today: %" PRId64
                                             "\nPaid time ending within 7 days: %" PRId64 "\n(today: since 00:00 UTC)"),
                deploys, failures, expiring);
        append_revenue(w, a->json, text, sizeof text);
        (void) work_edit_text(w, text, inline_keyboard(row(row(button(T(w->lang, "🔄 Refresh"), "st"), NULL), NULL)));
        work_commit(w);
}

void master_show_queue(Work *w) {
        master_api_call(w, "GET", "/api/queue", NULL, NULL, on_queue);
}

void master_show_stats(Work *w) {
        master_api_call(w, "GET", "/api/stats", NULL, NULL, on_stats);
}

bool master_retry(Work *w, const char *task) {
        char path[128];

        if (!*task || strlen(task) >= 64 || strspn(task, "0123456789-") != strlen(task))
                return false;
        snprintf(path, sizeof path, "/api/queue/%s/retry", task);
        master_api_call(w, "POST", path, NULL, NULL, on_retried);
        return true;
}
