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

#include <stdlib.h>

#include "bot-api.h"
#include "json-util.h"
#include "keyboard.h"
#include "log.h"
#include "master-flows.h"

#define API_TOKEN_MAX 4096

static const char *const menu_labels[] = {
        N_("➕ Add client"), N_("📋 Clients"), N_("🗂 Queue"), N_("📊 Stats"),
};
enum { MENU_ADD, MENU_CLIENTS, MENU_QUEUE, MENU_STATS, _MENU_MAX };

static json_object *master_menu(Lang l) {
        return menu_keyboard(l, menu_labels, _MENU_MAX);
}

static bool is_command(const char *text, const char *name) {
        const char *rest = startswith(text, "/");

        rest = rest ? startswith(rest, name) : NULL;
        return rest && (*rest == 0 || *rest == ' ' || *rest == '@');
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
                master_flow_end(w);
                show_welcome(w);
                return work_commit(w);
        }
        if (is_command(t, "cancel")) {
                master_flow_end(w);
                (void) work_send_text(w, T(w->lang, "Cancelled."), master_menu(w->lang));
                return work_commit(w);
        }
        item = menu_from_text(t);
        if (item >= 0)
                master_flow_end(w);   /* a menu item ends what was being entered */
        switch (item) {
        case MENU_ADD:
                return master_add_start(w);
        case MENU_CLIENTS:
                return master_show_clients(w, 0);
        case MENU_QUEUE:
                return master_show_queue(w);
        case MENU_STATS:
                return master_show_stats(w);
        }
        if (streq_ptr(await, "token"))
                return master_add_token(w);
        if (streq_ptr(await, "owner"))
                return master_add_owner(w);
        if (streq_ptr(await, "name"))
                return master_add_name(w);
        if (streq_ptr(await, "days"))
                return master_extend_days(w);
        if (streq_ptr(await, "confirm")) {
                (void) work_send_text(w, T(w->lang, "Press ✅ Add or ✖️ Cancel above."), NULL);
                return work_commit(w);
        }
        if (bot_token_valid(t)) {
                /* A token out of turn: it does not stay in the chat. */
                master_delete_message(w);
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

        if (streq(d, "add"))
                return master_add_confirmed(w);
        if (streq(d, "cancel")) {
                master_flow_end(w);
                (void) work_edit_text(w, T(w->lang, "Cancelled."), NULL);
                return work_commit(w);
        }
        if (streq(d, "q"))
                return master_show_queue(w);
        if (streq(d, "st"))
                return master_show_stats(w);
        if ((rest = startswith(d, "rt:")) && master_retry(w, rest))
                return;
        if (master_clients_button(w, d))
                return;
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