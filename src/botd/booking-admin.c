/* SPDX-License-Identifier: MIT */
/* The business's side of its bot, for its team: the owner, the admins the owner adds, and the
 * staff members linked to their Telegram accounts (booking-team.c), who see only their own
 * schedule. bookingd finds each one's role from the Telegram id; nothing here trusts a button.
 *
 * The day's schedule by staff member (today, the days before and after, any date from a month
 * calendar), a booking's card with what can be done with it — approve or decline a request,
 * cancel with a reason, mark it completed or a no-show once it has started — and the requests
 * waiting. The customer is told of what the business does (booking-notice.c), and asked to rate
 * a visit marked completed.
 *
 * Callback data, B a booking, D a date "YYYY-MM-DD": "ad" (today), "sd:D" (the schedule of D),
 * "sm:YYYY-MM" (a month to pick a date from), "bc:B" (its card), "ap:B" / "dc:B" (approve,
 * decline), "bx:B" (cancel: the reason asked, await "reason" on B), "by:B" (cancel without
 * one), "bd:B" / "bn:B" (completed, no-show), "rq" (the requests). bookingd answers only for a
 * booking the user manages: anything else is a stale button. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "booking.h"
#include "calendar.h"
#include "json-util.h"
#include "keyboard.h"
#include "macro.h"

#define NAME_MAX_BYTES 256
#define DAY_BUTTONS_MAX 40
#define MONTHS_AROUND 12

static const char *team_only(const Work *w) {
        return T(w->lang, "This is for the business's team: the owner, its admins and its staff.");
}

/* "10:00" of a card's "local" ("YYYY-MM-DD HH:MM"). */
static const char *card_time(json_object *card) {
        const char *local = strempty(json_get_string(card, "local"));

        return strlen(local) == 16 ? local + 11 : local;
}

static const char *status_mark(json_object *card) {
        const char *s = strempty(json_get_string(card, "status"));

        return streq(s, "requested") ? " ⏳" : streq(s, "completed") ? " ✔️" : streq(s, "no_show") ? " 🚫" : "";
}

/* --- the schedule of a day ------------------------------------------------------------------------ */

static void show_day(Work *w, const char *day);

static json_object *day_button(const char *label, Date d) {
        char data[BOOKING_DATA_MAX] = "sd:";

        date_format(d, data + 3, sizeof data - 3);
        return button(label, data);
}

static void on_day(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *day = booking_answer_for(w, reply, e, team_only(w));
        json_object *staff, *rows, *pending = NULL;
        char text[4096], when[96], esc[NAME_MAX_BYTES * 6], service[NAME_MAX_BYTES * 6], label[128];
        char data[BOOKING_DATA_MAX];
        size_t buttons = 0, several;
        Date d, today;

        if (!day)
                return work_commit(w);
        if (date_parse(json_get_string(day, "day"), &d) < 0 || date_parse(json_get_string(day, "today"), &today) < 0)
                return booking_unavailable(w), work_commit(w);
        staff = json_object_object_get(day, "staff");
        several = json_object_array_length(staff);
        snprintf(text, sizeof text, T(w->lang, "🗓 <b>%s</b>: the schedule"), date_text(w->lang, d, when, sizeof when));
        if (date_to_days(d) == date_to_days(today))
                text_appendf(text, sizeof text, " (%s)", T(w->lang, "today"));
        rows = json_object_new_array();
        for (size_t i = 0; i < several; i++) {
                json_object *st = json_object_array_get_idx(staff, i), *list = json_object_object_get(st, "bookings");
                text_appendf(text, sizeof text, "\n\n<b>%s</b>", html_escape(strempty(json_get_string(st, "name")), esc, sizeof esc));
                if (json_object_array_length(list) == 0)
                        text_appendf(text, sizeof text, "\n%s", T(w->lang, "No bookings."));
                for (size_t j = 0; j < json_object_array_length(list); j++) {
                        json_object *c = json_object_array_get_idx(list, j);
                        int64_t id = 0;
                        (void) json_get_int64(c, "id", &id);
                        html_escape(strempty(json_get_string(c, "customer_name")), esc, sizeof esc);
                        text_appendf(text, sizeof text, "\n%s–%s · %s · %s%s", card_time(c), strempty(json_get_string(c, "ends")),
                                     html_escape(strempty(json_get_string(c, "service")), service, sizeof service),
                                     isempty(esc) ? T(w->lang, "a customer") : esc, status_mark(c));
                        if (buttons >= DAY_BUTTONS_MAX)
                                continue;
                        snprintf(label, sizeof label, "%s %s%s%s", card_time(c), strempty(json_get_string(c, "customer_name")),
                                 several > 1 ? " · " : "", several > 1 ? strempty(json_get_string(st, "name")) : "");
                        snprintf(data, sizeof data, "bc:%" PRId64, id);
                        if (buttons++ % 2 == 0)
                                json_object_array_add(rows, pending = row(button(label, data), NULL));
                        else
                                json_object_array_add(pending, button(label, data));
                }
        }
        if (several == 0)
                text_appendf(text, sizeof text, "\n\n%s", T(w->lang, "No staff yet."));
        json_object_array_add(rows, row(day_button("◀", date_from_days(date_to_days(d) - 1)),
                                        day_button("▶", date_from_days(date_to_days(d) + 1))));
        snprintf(data, sizeof data, "sm:%04d-%02d", d.year, d.month);
        json_object_array_add(rows, row(button(T(w->lang, "📅 Another date"), data),
                                        date_to_days(d) == date_to_days(today) ? button(T(w->lang, "📨 Requests"), "rq")
                                                                               : button(T(w->lang, "Today"), "ad")));
        if (!streq_ptr(json_get_string(day, "role"), "staff")) {
                snprintf(data, sizeof data, "sx:%04d-%02d", d.year, d.month);
                json_object_array_add(rows, row(button(T(w->lang, "📊 Figures"), data), button(T(w->lang, "👥 Team"), "tm")));
        }
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void show_day(Work *w, const char *day) {
        booking_call(w, "Day", on_day, "xs", w->user, day);
}

void admin_home(Work *w) {
        show_day(w, strempty(json_get_string(w->scratch, "today")));
}

/* sm:YYYY-MM: every day of the month a button, months a year either side of today's. */
static void show_month(Work *w, const char *arg) {
        char day[16], prev[BOOKING_DATA_MAX], next[BOOKING_DATA_MAX];
        Date first, today;
        int64_t m, m0;
        json_object *extra;

        snprintf(day, sizeof day, "%.7s-01", arg);
        if (strlen(arg) != 7 || date_parse(day, &first) < 0 || date_parse(json_get_string(w->scratch, "today"), &today) < 0)
                return booking_stale(w), work_commit(w);
        m = first.year * 12 + first.month - 1;
        m0 = today.year * 12 + today.month - 1;
        if (m < m0 - MONTHS_AROUND || m > m0 + MONTHS_AROUND)
                return booking_stale(w), work_commit(w);
        snprintf(prev, sizeof prev, "sm:%04d-%02d", (int) ((m - 1) / 12), (int) ((m - 1) % 12 + 1));
        snprintf(next, sizeof next, "sm:%04d-%02d", (int) ((m + 1) / 12), (int) ((m + 1) % 12 + 1));
        extra = json_object_new_array();
        json_object_array_add(extra, row(button(T(w->lang, "Today"), "ad"), NULL));
        booking_show(w, T(w->lang, "Choose a date to see its schedule:"),
                     calendar_keyboard(w->lang, first, UINT32_MAX & ~UINT32_C(1), UINT32_MAX & ~UINT32_C(1), "sd:",
                                       m > m0 - MONTHS_AROUND ? prev : NULL, m < m0 + MONTHS_AROUND ? next : NULL, extra));
        work_commit(w);
}

/* --- a booking's card ----------------------------------------------------------------------------- */

static const char *status_text(const Work *w, const char *status) {
        if (streq_ptr(status, "requested"))
                return T(w->lang, "⏳ Waiting for your approval");
        if (streq_ptr(status, "confirmed"))
                return T(w->lang, "✅ Confirmed");
        if (streq_ptr(status, "cancelled_customer"))
                return T(w->lang, "✖️ Cancelled by the customer");
        if (streq_ptr(status, "cancelled_business"))
                return T(w->lang, "✖️ Cancelled by the business");
        if (streq_ptr(status, "completed"))
                return T(w->lang, "✔️ Came");
        if (streq_ptr(status, "no_show"))
                return T(w->lang, "🚫 Did not come");
        return strempty(status);
}

static json_object *act_button(const char *label, const char *prefix, int64_t id) {
        char data[BOOKING_DATA_MAX];

        snprintf(data, sizeof data, "%s:%" PRId64, prefix, id);
        return button(label, data);
}

/* The card, under @headline (NULL: none), with the buttons of what its status allows. */
static void show_card(Work *w, json_object *c, const char *headline) {
        const char *status = json_get_string(c, "status"), *v;
        char text[3072], esc[NAME_MAX_BYTES * 6], staff[NAME_MAX_BYTES * 6], when[96], price[64];
        int64_t id = 0, minor = 0;
        bool started = json_object_get_boolean(json_object_object_get(c, "started"));
        bool holds = streq_ptr(status, "requested") || streq_ptr(status, "confirmed");
        json_object *rows = json_object_new_array();
        Date day;

        (void) json_get_int64(c, "id", &id);
        (void) json_get_int64(c, "price_minor", &minor);
        snprintf(text, sizeof text, "%s%s<b>%s</b> · %s\n🗓 %s–%s\n👤 %s", strempty(headline), headline ? "\n\n" : "",
                 html_escape(strempty(json_get_string(c, "service")), esc, sizeof esc),
                 format_money(w->lang, minor, strempty(json_get_string(w->scratch, "currency")), price, sizeof price),
                 local_text(w->lang, json_get_string(c, "local"), when, sizeof when), strempty(json_get_string(c, "ends")),
                 html_escape(strempty(json_get_string(c, "staff")), staff, sizeof staff));
        html_escape(strempty(json_get_string(c, "customer_name")), esc, sizeof esc);
        text_appendf(text, sizeof text, "\n🙋 <a href=\"tg://user?id=%" PRId64 "\">%s</a>",
                     json_object_get_int64(json_object_object_get(c, "customer")), isempty(esc) ? T(w->lang, "a customer") : esc);
        if (!isempty(v = json_get_string(c, "customer_phone")))
                text_appendf(text, sizeof text, " · 📞 %s", v);
        text_appendf(text, sizeof text, "\n%s", status_text(w, status));
        if (holds && json_object_get_boolean(json_object_object_get(c, "coming")))
                text_appendf(text, sizeof text, " · %s", T(w->lang, "👍 said they will come"));
        if (json_get_int64(c, "rating", &minor) == 0 && minor > 0)
                text_appendf(text, sizeof text, T(w->lang, ", rated %d ⭐ of 5"), (int) minor);
        if (!isempty(v = json_get_string(c, "reason")))
                text_appendf(text, sizeof text, "\n%s %s", T(w->lang, "Reason:"), html_escape(v, esc, sizeof esc));

        if (streq_ptr(status, "requested") && !started)
                json_object_array_add(rows, row(act_button(T(w->lang, "✅ Approve"), "ap", id),
                                                act_button(T(w->lang, "✖️ Decline"), "dc", id)));
        if (holds && !started)
                json_object_array_add(rows, row(act_button(T(w->lang, "✖️ Cancel the booking"), "bx", id), NULL));
        if (started && streq_ptr(status, "confirmed"))
                json_object_array_add(rows, row(act_button(T(w->lang, "✔️ Came"), "bd", id),
                                                act_button(T(w->lang, "🚫 Did not come"), "bn", id)));
        else if (started && streq_ptr(status, "completed"))
                json_object_array_add(rows, row(act_button(T(w->lang, "🚫 Did not come"), "bn", id), NULL));
        else if (started && streq_ptr(status, "no_show"))
                json_object_array_add(rows, row(act_button(T(w->lang, "✔️ Came"), "bd", id), NULL));
        if (date_parse(json_get_string(c, "day"), &day) == 0)
                json_object_array_add(rows, row(day_button(T(w->lang, "◀ The schedule"), day), NULL));
        booking_show(w, text, inline_keyboard(rows));
}

/* bc:B shows the card; bx:B asks for the reason of a cancellation first. */
static void on_card(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *c = booking_answer(w, reply, e);
        char text[1024];
        int64_t id = 0;

        if (!c)
                return work_commit(w);
        if (!startswith(w->callback_data, "bx:")) {
                show_card(w, c, NULL);
                return work_commit(w);
        }
        (void) json_get_int64(c, "id", &id);
        json_object_object_add(w->state, "await", json_object_new_string("reason"));
        json_object_object_add(w->state, "on", json_object_new_int64(id));
        w->state_changed = true;
        snprintf(text, sizeof text, "<b>%s</b>\n\n%s", T(w->lang, "Cancel this booking?"),
                 T(w->lang, "Type the reason in a message: the customer reads it. Or cancel without one."));
        booking_show(w, text, inline_keyboard(row(row(act_button(T(w->lang, "✖️ Cancel without a reason"), "by", id), NULL),
                                                  row(act_button(T(w->lang, "◀ Keep it"), "bc", id), NULL))));
        work_commit(w);
}

/* --- what is done with a booking ---------------------------------------------------------------- */

static const struct {
        const char *prefix, *action;
        Notice notice;          /* told to the customer, when they are */
        bool tells;
        const char *done;       /* what the team member reads */
} actions[] = {
        { "ap:", "approve", NOTICE_APPROVED, true, N_("✅ Done. The customer is told.") },
        { "dc:", "decline", NOTICE_DECLINED, true, N_("✅ Done. The customer is told.") },
        { "by:", "cancel", NOTICE_CANCELLED_BY_BUSINESS, true, N_("✅ Done. The customer is told.") },
        { "bd:", "complete", NOTICE_RATE, true, N_("✅ Marked. The customer is asked to rate the visit.") },
        { "bn:", "no_show", 0, false, N_("✅ Marked.") },
};

/* The action of the press, or of the reason typed (a cancellation). */
static size_t action_of(const Work *w) {
        for (size_t i = 0; i < ELEMENTSOF(actions) && w->callback_data; i++)
                if (startswith(w->callback_data, actions[i].prefix))
                        return i;
        return 2;
}

static void on_acted(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        const char *outcome = json_get_string(answer, "outcome");
        json_object *card = json_object_object_get(answer, "booking");
        size_t a = action_of(w);

        if (!answer)
                return work_commit(w);
        if (streq_ptr(outcome, "done") && card) {
                if (actions[a].tells)
                        booking_notify(w, answer, actions[a].notice);
                show_card(w, card, T(w->lang, actions[a].done));
        } else if (streq_ptr(outcome, "too_early")) {
                (void) work_answer(w, T(w->lang, "The visit has not started yet."), true);
        } else if (streq_ptr(outcome, "not_active") && card)
                show_card(w, card, T(w->lang, "That cannot be done with this booking any more."));
        else
                booking_stale(w);
        work_commit(w);
}

static void act(Work *w, int64_t id, const char *action, const char *reason) {
        booking_call(w, "Act", on_acted, "xxss", w->user, id, action, reason);
}

bool admin_awaits(const Work *w) {
        return streq_ptr(json_get_string(w->state, "await"), "reason");
}

/* The reason of a cancellation (bx:B), typed. */
void admin_got_text(Work *w) {
        int64_t id = json_object_get_int64(json_object_object_get(w->state, "on"));

        json_object_object_del(w->state, "await");
        json_object_object_del(w->state, "on");
        w->state_changed = true;
        if (isempty(w->text) || id <= 0) {
                (void) work_send_text(w, T(w->lang, "Not cancelled: the reason is a text message. Open the booking "
                                                    "again to cancel it."), NULL);
                return work_commit(w);
        }
        act(w, id, "cancel", w->text);
}

/* --- requests ------------------------------------------------------------------------------------ */

static void on_requests(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *list = booking_answer_for(w, reply, e, team_only(w));
        char text[4096], card[1024], label[64];
        json_object *rows;
        size_t n;

        if (!list)
                return work_commit(w);
        n = json_object_array_length(list);
        rows = json_object_new_array();
        snprintf(text, sizeof text, "<b>%s</b>", n ? T(w->lang, "📨 Requests waiting for your approval")
                                                  : T(w->lang, "📨 No requests are waiting."));
        for (size_t i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(list, i);
                char esc[NAME_MAX_BYTES * 6];
                int64_t id = 0;
                (void) json_get_int64(c, "id", &id);
                html_escape(strempty(json_get_string(c, "customer_name")), esc, sizeof esc);
                text_appendf(text, sizeof text, "\n\n%zu. %s\n🙋 %s", i + 1, card_text(w->lang, c, card, sizeof card),
                             isempty(esc) ? T(w->lang, "a customer") : esc);
                snprintf(label, sizeof label, T(w->lang, "✅ Approve %zu"), i + 1);
                json_object *approve = act_button(label, "ap", id);
                snprintf(label, sizeof label, T(w->lang, "✖️ Decline %zu"), i + 1);
                json_object_array_add(rows, row(approve, act_button(label, "dc", id)));
        }
        json_object_array_add(rows, row(button(T(w->lang, "◀ The schedule"), "ad"), NULL));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

/* --- dispatch ------------------------------------------------------------------------------------ */

bool admin_button(Work *w, const char *data) {
        const char *arg;
        char *end;
        int64_t id;
        Date d;

        if (streq(data, "ad")) {
                admin_home(w);
                return true;
        }
        if (streq(data, "rq")) {
                booking_call(w, "Requests", on_requests, "x", w->user);
                return true;
        }
        if ((arg = startswith(data, "sd:"))) {
                if (date_parse(arg, &d) < 0)
                        booking_stale(w), work_commit(w);
                else
                        show_day(w, arg);
                return true;
        }
        if ((arg = startswith(data, "sm:"))) {
                show_month(w, arg);
                return true;
        }
        if (!(arg = startswith(data, "bc:")) && !(arg = startswith(data, "bx:"))) {
                size_t i = 0;
                while (i < ELEMENTSOF(actions) && !(arg = startswith(data, actions[i].prefix)))
                        i++;
                if (i == ELEMENTSOF(actions))
                        return false;
        }
        id = strtoll(arg, &end, 10);
        if (end == arg || *end || id <= 0)
                booking_stale(w), work_commit(w);
        else if (startswith(data, "bc:") || startswith(data, "bx:"))
                booking_call(w, "Manage", on_card, "xx", w->user, id);
        else
                act(w, id, actions[action_of(w)].action, "");
        return true;
}
