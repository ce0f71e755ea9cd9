/* SPDX-License-Identifier: MIT */
/* A business's team, managed in its own bot: the owner adds admins by Telegram id (at most 5),
 * and the owner or an admin links staff members to their Telegram accounts, so that they see and
 * manage their own schedule (booking-admin.c). bookingd checks who may do what and audits it.
 *
 * Callback data: "tm" (the team), "ta" (add an admin: their id asked, await "admin"), "tr:U"
 * (remove admin U), "tl:S" (link staff member S: the id asked, await "link" on S), "tu:S"
 * (unlink S). The id is typed, or comes with the person's shared contact or a forwarded
 * message of theirs. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

#define NAME_MAX_BYTES 256

static json_object *id_button(const char *label, const char *prefix, int64_t id) {
        char data[BOOKING_DATA_MAX];

        snprintf(data, sizeof data, "%s:%" PRId64, prefix, id);
        return button(label, data);
}

static void show_team(Work *w, json_object *team) {
        json_object *admins = json_object_object_get(team, "admins"), *staff = json_object_object_get(team, "staff");
        bool owner = streq_ptr(json_get_string(team, "role"), "owner");
        char text[4096], esc[NAME_MAX_BYTES * 6], label[NAME_MAX_BYTES + 32];
        json_object *rows = json_object_new_array();
        int64_t id;

        snprintf(text, sizeof text, "👥 <b>%s</b>\n\n%s <a href=\"tg://user?id=%" PRId64 "\">%" PRId64 "</a>",
                 T(w->lang, "The team"), T(w->lang, "👑 Owner:"), json_object_get_int64(json_object_object_get(team, "owner")),
                 json_object_get_int64(json_object_object_get(team, "owner")));
        text_appendf(text, sizeof text, "\n\n<b>%s</b>", T(w->lang, "🛡 Admins (they manage everything)"));
        if (json_object_array_length(admins) == 0)
                text_appendf(text, sizeof text, "\n%s", T(w->lang, "None yet."));
        for (size_t i = 0; i < json_object_array_length(admins); i++) {
                json_object *a = json_object_array_get_idx(admins, i);
                id = json_object_get_int64(json_object_object_get(a, "id"));
                html_escape(strempty(json_get_string(a, "name")), esc, sizeof esc);
                text_appendf(text, sizeof text, "\n• %s%s%" PRId64 "%s", esc, isempty(esc) ? "" : " (", id, isempty(esc) ? "" : ")");
                if (!owner)
                        continue;
                if (isempty(esc))
                        snprintf(label, sizeof label, T(w->lang, "✖️ Remove %" PRId64), id);
                else
                        snprintf(label, sizeof label, T(w->lang, "✖️ Remove %s"), json_get_string(a, "name"));
                json_object_array_add(rows, row(id_button(label, "tr", id), NULL));
        }
        text_appendf(text, sizeof text, "\n\n<b>%s</b>", T(w->lang, "✂️ Staff (linked, they see their own schedule)"));
        for (size_t i = 0; i < json_object_array_length(staff); i++) {
                json_object *s = json_object_array_get_idx(staff, i);
                const char *name = strempty(json_get_string(s, "name"));
                int64_t tg = json_object_get_int64(json_object_object_get(s, "telegram_id"));
                id = json_object_get_int64(json_object_object_get(s, "id"));
                html_escape(name, esc, sizeof esc);
                if (tg > 0)
                        text_appendf(text, sizeof text, T(w->lang, "\n• %s: linked to %" PRId64), esc, tg);
                else
                        text_appendf(text, sizeof text, T(w->lang, "\n• %s: not linked"), esc);
                if (tg > 0)
                        snprintf(label, sizeof label, T(w->lang, "✖️ Unlink %s"), name);
                else
                        snprintf(label, sizeof label, T(w->lang, "🔗 Link %s"), name);
                json_object_array_add(rows, row(id_button(label, tg > 0 ? "tu" : "tl", id), NULL));
        }
        if (owner)
                json_object_array_add(rows, row(button(T(w->lang, "➕ Add an admin"), "ta"), NULL));
        json_object_array_add(rows, row(button(T(w->lang, "◀ The schedule"), "ad"), NULL));
        booking_show(w, text, inline_keyboard(rows));
}

static void ask_id(Work *w, const char *await, int64_t on, const char *text) {
        json_object_object_add(w->state, "await", json_object_new_string(await));
        json_object_object_add(w->state, "on", json_object_new_int64(on));
        w->state_changed = true;
        booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, "◀ The team"), "tm"), NULL), NULL)));
}

/* tm shows the team; ta and tl:S, once the team says the user may, ask for an id. */
static void on_team(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *team = booking_answer_for(
                w, reply, e, T(w->lang, "Only the business's owner and admins manage its team."));
        const char *d = strempty(w->callback_data), *arg;
        char text[1024], esc[NAME_MAX_BYTES * 6];
        json_object *s;

        if (!team)
                return work_commit(w);
        if (streq(d, "ta")) {
                if (!streq_ptr(json_get_string(team, "role"), "owner"))
                        (void) work_answer(w, T(w->lang, "Only the owner adds admins."), true);
                else
                        ask_id(w, "admin", 0, T(w->lang, "Send the new admin's Telegram id (a number such as "
                                                         "123456789), or share their contact."));
        } else if ((arg = startswith(d, "tl:"))) {
                if (!(s = booking_find(json_object_object_get(team, "staff"), strtoll(arg, NULL, 10))))
                        booking_stale(w);
                else {
                        snprintf(text, sizeof text, T(w->lang, "Send the Telegram id of %s (a number such as 123456789), "
                                                               "or share their contact."),
                                 html_escape(strempty(json_get_string(s, "name")), esc, sizeof esc));
                        ask_id(w, "link", json_object_get_int64(json_object_object_get(s, "id")), text);
                }
        } else
                show_team(w, team);
        work_commit(w);
}

static void team_show(Work *w) {
        booking_call(w, "Team", on_team, "x", w->user);
}

static void on_changed(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        static const struct {
                const char *outcome, *text;
        } said[] = {
                { "added", N_("✅ Added as an admin. They open this bot and send /start to see the schedule.") },
                { "removed", N_("✅ They are no longer an admin.") },
                { "exists", N_("They are an admin already.") },
                { "none", N_("They are not an admin.") },
                { "is_owner", N_("That is you: the owner manages everything already.") },
                { "limit", N_("A business has at most 5 admins.") },
                { "linked", N_("✅ Linked. They open this bot and send /start to see their schedule.") },
                { "unlinked", N_("✅ Unlinked.") },
                { "taken", N_("That Telegram account is linked to another staff member already.") },
                { "not_allowed", N_("Only the business's owner and admins manage its team.") },
        };
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        const char *outcome = json_get_string(answer, "outcome");

        if (!answer)
                return work_commit(w);
        for (size_t i = 0; i < ELEMENTSOF(said); i++)
                if (streq_ptr(outcome, said[i].outcome)) {
                        if (w->callback_id)
                                (void) work_answer(w, T(w->lang, said[i].text), false);
                        else
                                (void) work_send_text(w, T(w->lang, said[i].text), NULL);
                        return team_show(w);
                }
        booking_stale(w);
        work_commit(w);
}

bool team_awaits(const Work *w) {
        const char *a = json_get_string(w->state, "await");

        return streq_ptr(a, "admin") || streq_ptr(a, "link");
}

/* The Telegram id a message gives: typed, or a shared contact's, or a forwarded message's
 * sender's. 0 when none. */
static int64_t given_id(const Work *w) {
        json_object *msg, *o;
        int64_t id = 0;
        char *end;

        if (!json_object_object_get_ex(w->root, "message", &msg))
                return 0;
        if ((json_object_object_get_ex(msg, "contact", &o) || json_object_object_get_ex(msg, "forward_from", &o)) &&
            (json_get_int64(o, "user_id", &id) == 0 || json_get_int64(o, "id", &id) == 0))
                return id > 0 ? id : 0;
        if (isempty(w->text))
                return 0;
        id = strtoll(w->text, &end, 10);
        return *end == 0 && id > 0 && w->text[0] != '+' && w->text[0] != '-' ? id : 0;
}

void team_got_text(Work *w) {
        bool admin = streq_ptr(json_get_string(w->state, "await"), "admin");
        int64_t on = json_object_get_int64(json_object_object_get(w->state, "on")), id = given_id(w);

        if (id == 0) {
                (void) work_send_text(w, T(w->lang, "That is not a Telegram id. Send the number (such as 123456789), or "
                                                    "share their contact; or go back with ◀ The team."), NULL);
                return work_commit(w);
        }
        json_object_object_del(w->state, "await");
        json_object_object_del(w->state, "on");
        w->state_changed = true;
        if (admin)
                booking_call(w, "SetAdmin", on_changed, "xxi", w->user, id, (int32_t) 1);
        else
                booking_call(w, "LinkStaff", on_changed, "xxx", w->user, on, id);
}

bool team_button(Work *w, const char *data) {
        const char *arg;
        char *end;
        int64_t id;

        if (streq(data, "tm") || streq(data, "ta") || startswith(data, "tl:")) {
                team_show(w);
                return true;
        }
        if (!(arg = startswith(data, "tr:")) && !(arg = startswith(data, "tu:")))
                return false;
        id = strtoll(arg, &end, 10);
        if (end == arg || *end || id <= 0)
                booking_stale(w), work_commit(w);
        else if (startswith(data, "tr:"))
                booking_call(w, "SetAdmin", on_changed, "xxi", w->user, id, (int32_t) 0);
        else
                booking_call(w, "LinkStaff", on_changed, "xxx", w->user, id, (int64_t) 0);
        return true;
}
