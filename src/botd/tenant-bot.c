/* SPDX-License-Identifier: MIT */
/* A business's own bot (tgfleet-bot@<tenant>, deployed by tgfleet-deployd): its customers book a
 * visit, see their bookings, cancel and move them, and read about the business. The data is
 * tgfleet-bookingd's (org.tgfleet.Booking1), which knows the business by this process's user:
 * nothing here names it, and no id in a button reaches another business's data.
 *
 * Every update, and every reminder (bookingd's booking.reminder events), first gets the business
 * (Booking1.Business(), on bookingd's own socket: dbus-daemon refuses a dynamic user a system bus
 * connection) into w->scratch, then is handled.
 * While bookingd is unreachable, /start still greets with the business's name from the
 * "tenant:<id>" hash deployd keeps in Redis, and says to try again shortly.
 *
 * Menu (a persistent keyboard, and "bk", "my", "ab" as buttons): 📅 Book, 🗂 My bookings,
 * ℹ️ About, and for the business's team 🗓 Schedule (also /admin). Callback data: "bk", "my",
 * "ab", "no" (a day without free time, a blank), and those of booking-book.c (sv: st: cl: dy:
 * tm: ok:), booking-mine.c (cx: cy: rs: rt:), booking-remind.c (ic:), booking-admin.c,
 * booking-team.c and booking-stats.c. The conversation state keeps "team" for the team's menu, "await" "phone" with "book" while a phone number is
 * asked for, and "await" "reason", "admin" or "link" with "on" (booking-admin.c, -team.c). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "booking.h"
#include "calendar.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

#define NAME_MAX_BYTES 256

static const char *const menu_labels[] = { N_("📅 Book"), N_("🗂 My bookings"), N_("ℹ️ About"), N_("🗓 Schedule") };
enum { MENU_BOOK, MENU_MINE, MENU_ABOUT, MENU_SCHEDULE, _MENU_MAX };

/* --- shared by the tenant role's files ---------------------------------------------------------- */

void booking_show(Work *w, const char *text, json_object *keyboard) {
        (void) work_edit_text(w, text, keyboard);
}

static void booking_say(Work *w, const char *text) {
        if (w->callback_id)
                (void) work_answer(w, text, true);
        else
                (void) work_send_text(w, text, NULL);
}

void booking_unavailable(Work *w) {
        booking_say(w, T(w->lang, "Booking is unavailable at the moment. Please try again in a few minutes."));
}

void booking_stale(Work *w) {
        booking_say(w, T(w->lang, "This button is no longer valid."));
}

json_object *booking_answer_for(Work *w, sd_bus_message *reply, const sd_bus_error *e, const char *when_null) {
        const char *text;
        json_object *o;

        if (e || !reply || sd_bus_message_read_basic(reply, 's', &text) < 0) {
                booking_unavailable(w);
                return NULL;
        }
        if (streq(text, "null")) {
                /* not the user's booking, or none; or not theirs to manage */
                if (when_null)
                        booking_say(w, when_null);
                else
                        booking_stale(w);
                return NULL;
        }
        if (json_parse(text, strlen(text), &o) < 0) {
                booking_unavailable(w);
                return NULL;
        }
        return o;
}

json_object *booking_answer(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        return booking_answer_for(w, reply, e, NULL);
}

json_object *booking_find(json_object *list, int64_t id) {
        int64_t v;

        for (size_t i = 0; json_object_is_type(list, json_type_array) && i < json_object_array_length(list); i++) {
                json_object *o = json_object_array_get_idx(list, i);
                if (json_get_int64(o, "id", &v) == 0 && v == id)
                        return o;
        }
        return NULL;
}

json_object *business_service(const Work *w, int64_t id) {
        return booking_find(json_object_object_get(w->scratch, "services"), id);
}

json_object *business_staff(const Work *w, int64_t id) {
        return booking_find(json_object_object_get(w->scratch, "staff"), id);
}

char *service_text(const Work *w, json_object *service, char *buf, size_t size) {
        char name[NAME_MAX_BYTES], price[64];
        int64_t minutes = 0, minor = 0;

        (void) json_get_int64(service, "duration_min", &minutes);
        (void) json_get_int64(service, "price_minor", &minor);
        snprintf(buf, size, T(w->lang, "%s — %d min, %s"),
                 html_escape(strempty(json_get_string(service, "name")), name, sizeof name), (int) minutes,
                 format_money(w->lang, minor, strempty(json_get_string(w->scratch, "currency")), price, sizeof price));
        return buf;
}

char *card_text(Lang l, json_object *card, char *buf, size_t size) {
        char service[NAME_MAX_BYTES], staff[NAME_MAX_BYTES], when[96];
        const char *status = json_get_string(card, "status");

        snprintf(buf, size, T(l, "<b>%s</b>\n🗓 %s\n👤 %s"),
                 html_escape(strempty(json_get_string(card, "service")), service, sizeof service),
                 local_text(l, json_get_string(card, "local"), when, sizeof when),
                 html_escape(strempty(json_get_string(card, "staff")), staff, sizeof staff));
        if (streq_ptr(status, "requested"))
                text_appendf(buf, size, "\n%s", T(l, "⏳ Waiting for the business to confirm"));
        return buf;
}

const char *booking_user_name(const Work *w) {
        json_object *o, *from;

        if ((json_object_object_get_ex(w->root, "message", &o) || json_object_object_get_ex(w->root, "callback_query", &o)) &&
            json_object_object_get_ex(o, "from", &from))
                return strempty(json_get_string(from, "first_name"));
        return "";
}

/* --- the menu, the greeting, About --------------------------------------------------------------- */

json_object *tenant_menu(const Work *w) {
        bool team = json_object_get_boolean(json_object_object_get(w->state, "team"));

        return menu_keyboard(w->lang, menu_labels, team ? _MENU_MAX : MENU_SCHEDULE);
}

static void greet(Work *w, const char *name, bool unavailable) {
        char escaped[NAME_MAX_BYTES * 6], text[sizeof escaped + 512];

        html_escape(name, escaped, sizeof escaped);
        if (isempty(name))
                snprintf(text, sizeof text, "%s", T(w->lang, "👋 Welcome! Booking is unavailable at the moment. Please "
                                                             "try again in a few minutes."));
        else if (unavailable)
                snprintf(text, sizeof text, T(w->lang, "👋 Welcome to <b>%s</b>!\nBooking is unavailable at the moment. "
                                                       "Please try again in a few minutes."), escaped);
        else
                snprintf(text, sizeof text, T(w->lang, "👋 Welcome to <b>%s</b>!\nBook a visit in a few taps: choose a "
                                                       "service, a day and a time."), escaped);
        if (!unavailable && json_object_get_boolean(json_object_object_get(w->state, "team")))
                text_appendf(text, sizeof text, "\n\n%s", T(w->lang, "You are on the business's team: 🗓 Schedule shows "
                                                                     "the day's bookings."));
        (void) work_send_text(w, text, unavailable ? NULL : tenant_menu(w));
}

/* /start remembers the user as a customer, and whether they are on the team (the menu shows
 * 🗓 Schedule); bookingd unreachable, they are greeted all the same. */
static void on_customer(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *customer = NULL;
        const char *text;
        bool team;

        if (!e && reply && sd_bus_message_read_basic(reply, 's', &text) >= 0)
                (void) json_parse(text, strlen(text), &customer);
        team = json_get_string(customer, "role") != NULL;
        if (team != json_object_get_boolean(json_object_object_get(w->state, "team"))) {
                if (team)
                        json_object_object_add(w->state, "team", json_object_new_boolean(true));
                else
                        json_object_object_del(w->state, "team");
                w->state_changed = true;
        }
        greet(w, strempty(json_get_string(w->scratch, "name")), false);
        work_commit(w);
}

static void show_welcome(Work *w) {
        booking_call(w, "Customer", on_customer, "xss", w->user, booking_user_name(w), lang_to_string(w->lang));
}

static void show_about(Work *w) {
        json_object *biz = w->scratch, *list;
        char text[4096], esc[2048], line[512];
        const char *v;

        snprintf(text, sizeof text, "<b>%s</b>", html_escape(strempty(json_get_string(biz, "name")), esc, sizeof esc));
        if (!isempty(v = json_get_string(biz, "about")))
                text_appendf(text, sizeof text, "\n\n%s", html_escape(v, esc, sizeof esc));
        if (!isempty(v = json_get_string(biz, "address")))
                text_appendf(text, sizeof text, "\n\n📍 %s", html_escape(v, esc, sizeof esc));
        if (!isempty(v = json_get_string(biz, "phone")))
                text_appendf(text, sizeof text, "\n📞 %s", html_escape(v, esc, sizeof esc));
        list = json_object_object_get(biz, "hours");
        if (json_object_array_length(list) > 0)
                text_appendf(text, sizeof text, "\n\n<b>%s</b>", T(w->lang, "Opening hours"));
        for (int wd = 1; wd <= 7 && json_object_array_length(list) > 0; wd++) {
                json_object *h = NULL;
                int64_t day;
                for (size_t i = 0; i < json_object_array_length(list) && !h; i++)
                        if (json_get_int64(json_object_array_get_idx(list, i), "weekday", &day) == 0 && day == wd)
                                h = json_object_array_get_idx(list, i);
                if (h)
                        text_appendf(text, sizeof text, "\n%s %s–%s", weekday_text(w->lang, wd),
                                     strempty(json_get_string(h, "from")), strempty(json_get_string(h, "to")));
                else
                        text_appendf(text, sizeof text, "\n%s %s", weekday_text(w->lang, wd), T(w->lang, "closed"));
        }
        list = json_object_object_get(biz, "services");
        if (json_object_array_length(list) > 0)
                text_appendf(text, sizeof text, "\n\n<b>%s</b>", T(w->lang, "Services"));
        for (size_t i = 0; i < json_object_array_length(list); i++)
                text_appendf(text, sizeof text, "\n• %s",
                             service_text(w, json_object_array_get_idx(list, i), line, sizeof line));
        booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, menu_labels[MENU_BOOK]), "bk"), NULL), NULL)));
}

/* --- dispatch ------------------------------------------------------------------------------------ */

static void handle_text(Work *w) {
        const char *t = w->text;

        if (json_object_object_get_ex(w->state, "await", NULL) && (!t || t[0] != '/') &&
            menu_pick(strempty(t), menu_labels, _MENU_MAX) < 0) {
                if (streq_ptr(json_get_string(w->state, "await"), "phone"))
                        return book_got_phone(w);
                if (admin_awaits(w))
                        return admin_got_text(w);
                if (team_awaits(w))
                        return team_got_text(w);
        }
        if (!t) {
                (void) work_send_text(w, T(w->lang, "Choose what to do with the buttons below."), tenant_menu(w));
                return work_commit(w);
        }
        if (json_object_object_get_ex(w->state, "await", NULL)) {
                json_object_object_del(w->state, "await");
                json_object_object_del(w->state, "book");
                json_object_object_del(w->state, "on");
                w->state_changed = true;
        }
        if (streq(t, "/start") || startswith(t, "/start ") || startswith(t, "/start@"))
                return show_welcome(w);
        switch (menu_pick(t, menu_labels, _MENU_MAX)) {
        case MENU_BOOK:
                return book_start(w);
        case MENU_MINE:
                return mine_show(w);
        case MENU_ABOUT:
                show_about(w);
                return work_commit(w);
        case MENU_SCHEDULE:
                return admin_home(w);
        }
        if (startswith(t, "/book"))
                return book_start(w);
        if (startswith(t, "/my"))
                return mine_show(w);
        if (startswith(t, "/admin") || startswith(t, "/schedule"))
                return admin_home(w);
        if (startswith(t, "/about") || startswith(t, "/help")) {
                show_about(w);
                return work_commit(w);
        }
        (void) work_send_text(w, T(w->lang, "Choose what to do with the buttons below."), tenant_menu(w));
        work_commit(w);
}

static void handle_button(Work *w) {
        const char *d = strempty(w->callback_data);

        /* A press ends what a text was awaited for (a reason, an id, a phone number): the next
         * message is not taken for it. What asks again sets it again. */
        if (json_object_object_get_ex(w->state, "await", NULL)) {
                json_object_object_del(w->state, "await");
                json_object_object_del(w->state, "on");
                w->state_changed = true;
        }
        if (streq(d, "bk"))
                return book_start(w);
        if (streq(d, "my"))
                return mine_show(w);
        if (streq(d, "ab"))
                show_about(w);
        else if (streq(d, "no"))
                (void) work_answer(w, T(w->lang, "Nothing to book there: choose a day with a number."), false);
        else if (book_button(w, d) || mine_button(w, d) || remind_button(w, d) || admin_button(w, d) ||
                 team_button(w, d) || stats_button(w, d))
                return;
        else
                booking_stale(w);
        work_commit(w);
}

static void dispatch(Work *w) {
        if (w->is_event)
                remind_event(w);
        else if (w->callback_id)
                handle_button(w);
        else
                handle_text(w);
}

/* bookingd down: /start greets with the name deployd put in Redis; anything else is told to wait. */
static void on_profile(Redis *r, redisReply *reply, void *userdata) {
        Work *w = userdata;

        /* With Redis down the commit fails too, and the update is handled again later. */
        greet(w, reply && reply->type == REDIS_REPLY_STRING ? reply->str : "", true);
        work_commit(w);
}

static void on_business(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        const char *text;
        const char *argv[] = { "HGET", w->b->profile_key.s, "name" };

        if (!e && reply && sd_bus_message_read_basic(reply, 's', &text) >= 0 &&
            json_parse(text, strlen(text), &w->scratch) >= 0 && json_object_is_type(w->scratch, json_type_object))
                return dispatch(w);
        if (w->is_event)
                return work_abandon(w);   /* a reminder waits for bookingd */
        if (w->text && (streq(w->text, "/start") || startswith(w->text, "/start "))) {
                if (redis_command_argv(w->b->daemon.redis, on_profile, w, ELEMENTSOF(argv), argv, NULL) < 0)
                        on_profile(w->b->daemon.redis, NULL, w);
                return;
        }
        booking_unavailable(w);
        work_commit(w);
}

static void tenant_handle_update(Work *w) {
        booking_call(w, "Business", on_business, "");
}

/* Events: bookingd's reminders. */
static void tenant_handle_event(Work *w) {
        if (streq_ptr(json_get_string(w->root, "type"), "booking.reminder"))
                return tenant_handle_update(w);
        work_commit(w);
}

static int tenant_setup(Botd *b) {
        b->profile_key = redis_key_tenant(b->args->tenant);
        return 0;
}

const BotRole tenant_role = {
        .name = "tenant",
        .setup = tenant_setup,
        .handle_update = tenant_handle_update,
        .handle_event = tenant_handle_event,
        .booking_peer = true,
};
