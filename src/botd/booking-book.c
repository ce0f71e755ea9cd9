/* SPDX-License-Identifier: MIT */
/* Book: service → staff member (or anyone) → day (the month calendar, days without a free start
 * marked ✖) → time (the free starts only) → confirm (the phone number first, when the business
 * asks for it) → booked, or "request sent" when the owner approves bookings. The same steps, from
 * the staff member on, give a booking being moved its new time.
 *
 * Callback data, S the service, P the staff member (0: anyone), M the booking being moved (0: a
 * new one): "sv:S:0:M" (the staff), "st:S:P:M" (the calendar of the first month),
 * "cl:S:P:M:YYYY-MM" (another month), "dy:S:P:M:YYYY-MM-DD" (the times of a day),
 * "tm:S:P:M:YYYY-MM-DD:HHMM" (confirm), "ok:S:P:M:UNIX" (book, or move). Nothing in them is
 * trusted: bookingd books only a start it offers, of a service of this business, and moves only
 * the user's own booking; a stale one gets the times free instead. */

#include <errno.h>
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
#define TIMES_PER_ROW 4
#define NEAREST 4

typedef struct Pick {
        int64_t service, staff, move;
        const char *arg;    /* what follows "S:P:M:", or "" */
} Pick;

/* Parses "S:P:M" or "S:P:M:ARG". */
static bool pick_parse(const char *s, Pick *ret) {
        int64_t v[3];
        char *end;

        for (int i = 0; i < 3; i++) {
                if (!s || *s < '0' || *s > '9')
                        return false;
                errno = 0;
                v[i] = strtoll(s, &end, 10);
                if (errno != 0 || (*end != ':' && (i < 2 || *end)))
                        return false;
                s = *end ? end + 1 : end;
        }
        if (v[0] <= 0 || v[1] < 0 || v[2] < 0)
                return false;
        *ret = (Pick) { v[0], v[1], v[2], s };
        return true;
}

/* The pick a call is made for, kept in w->scratch (".pick") for its reply. */
static void pick_save(Work *w, const Pick *p) {
        char buf[BOOKING_DATA_MAX + 32];

        snprintf(buf, sizeof buf, "%" PRId64 ":%" PRId64 ":%" PRId64 "%s%s", p->service, p->staff, p->move,
                 isempty(p->arg) ? "" : ":", strempty(p->arg));
        json_object_object_add(w->scratch, ".pick", json_object_new_string(buf));
}

static bool pick_load(Work *w, Pick *ret) {
        return pick_parse(json_get_string(w->scratch, ".pick"), ret);
}

/* "PREFIX:S:P:M" with ":ARG" when @arg; false when that does not fit in callback data. */
static bool pick_data(char *buf, const char *prefix, const Pick *p, int64_t staff, const char *arg) {
        int n = snprintf(buf, BOOKING_DATA_MAX, "%s:%" PRId64 ":%" PRId64 ":%" PRId64 "%s%s", prefix, p->service, staff,
                         p->move, arg ? ":" : "", strempty(arg));
        return n > 0 && n < BOOKING_DATA_MAX;
}

static json_object *pick_button(const char *label, const char *prefix, const Pick *p, int64_t staff, const char *arg) {
        char data[BOOKING_DATA_MAX];

        return pick_data(data, prefix, p, staff, arg) ? button(label, data) : button(label, "no");
}

/* "with Anna" or "with anyone". */
static const char *staff_text(const Work *w, int64_t staff, char *buf, size_t size) {
        char name[NAME_MAX_BYTES];
        json_object *s = staff > 0 ? business_staff(w, staff) : NULL;

        if (!s)
                return T(w->lang, "with any specialist");
        snprintf(buf, size, T(w->lang, "with %s"), html_escape(strempty(json_get_string(s, "name")), name, sizeof name));
        return buf;
}

/* "<b>Cut</b> · with Anna" and, for a move, a line saying so. */
static char *title_text(const Work *w, const Pick *p, char *buf, size_t size) {
        char name[NAME_MAX_BYTES], with[NAME_MAX_BYTES];

        snprintf(buf, size, "%s<b>%s</b> · %s", p->move ? T(w->lang, "🔁 Moving your booking\n") : "",
                 html_escape(strempty(json_get_string(business_service(w, p->service), "name")), name, sizeof name),
                 staff_text(w, p->staff, with, sizeof with));
        return buf;
}

/* --- service and staff ------------------------------------------------------------------------- */

void book_start(Work *w) {
        json_object *list = json_object_object_get(w->scratch, "services"), *rows;
        char text[4096], line[512];
        Pick p = {};

        if (json_object_array_length(list) == 0) {
                booking_show(w, T(w->lang, "There is nothing to book yet: the business has not added its services."), NULL);
                return work_commit(w);
        }
        rows = json_object_new_array();
        snprintf(text, sizeof text, "<b>%s</b>\n", T(w->lang, "Choose a service"));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *s = json_object_array_get_idx(list, i);
                (void) json_get_int64(s, "id", &p.service);
                text_appendf(text, sizeof text, "\n• %s", service_text(w, s, line, sizeof line));
                snprintf(line, sizeof line, "%s", strempty(json_get_string(s, "name")));
                json_object_array_add(rows, row(pick_button(line, "sv", &p, 0, NULL), NULL));
        }
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

static bool does_service(json_object *staff, int64_t service) {
        json_object *list = json_object_object_get(staff, "services");

        for (size_t i = 0; i < json_object_array_length(list); i++)
                if (json_object_get_int64(json_object_array_get_idx(list, i)) == service)
                        return true;
        return false;
}

static void show_calendar(Work *w, Pick *p);

/* How many staff members do @service; *@ret_only is the last of them. */
static size_t staff_of(const Work *w, int64_t service, json_object **ret_only) {
        json_object *list = json_object_object_get(w->scratch, "staff");
        size_t n = 0;

        for (size_t i = 0; i < json_object_array_length(list); i++)
                if (does_service(json_object_array_get_idx(list, i), service)) {
                        *ret_only = json_object_array_get_idx(list, i);
                        n++;
                }
        return n;
}

/* Where ◀ Back leads from the calendar: the staff, unless there was none to choose from. */
static json_object *back_to_staff(const Work *w, const Pick *p) {
        json_object *only;

        if (staff_of(w, p->service, &only) > 1)
                return pick_button(T(w->lang, "◀ Back"), "sv", p, 0, NULL);
        return button(T(w->lang, "◀ Back"), p->move ? "my" : "bk");
}

static void show_staff(Work *w, Pick *p) {
        json_object *list = json_object_object_get(w->scratch, "staff"), *rows, *only = NULL;
        char text[1024], name[NAME_MAX_BYTES];
        size_t n;

        if (!business_service(w, p->service))
                return booking_stale(w), work_commit(w);
        n = staff_of(w, p->service, &only);
        if (n == 1) {   /* the only one: nothing to choose */
                (void) json_get_int64(only, "id", &p->staff);
                return show_calendar(w, p);
        }
        if (n == 0) {
                booking_show(w, T(w->lang, "Nobody does this service at the moment. Please choose another one."),
                             inline_keyboard(row(row(button(T(w->lang, "◀ Back"), p->move ? "my" : "bk"), NULL), NULL)));
                return work_commit(w);
        }
        rows = json_object_new_array();
        json_object_array_add(rows, row(pick_button(T(w->lang, "👥 Any specialist"), "st", p, 0, NULL), NULL));
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *s = json_object_array_get_idx(list, i);
                int64_t id = 0;
                if (!does_service(s, p->service))
                        continue;
                (void) json_get_int64(s, "id", &id);
                json_object_array_add(rows, row(pick_button(strempty(json_get_string(s, "name")), "st", p, id, NULL), NULL));
        }
        json_object_array_add(rows, row(button(T(w->lang, "◀ Back"), p->move ? "my" : "bk"), NULL));
        snprintf(text, sizeof text, "%s<b>%s</b>\n%s", p->move ? T(w->lang, "🔁 Moving your booking\n") : "",
                 html_escape(strempty(json_get_string(business_service(w, p->service), "name")), name, sizeof name),
                 T(w->lang, "Choose a specialist:"));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

void book_move(Work *w, json_object *card) {
        Pick p = {};

        (void) json_get_int64(card, "service_id", &p.service);
        (void) json_get_int64(card, "id", &p.move);
        show_staff(w, &p);
}

/* --- the calendar -------------------------------------------------------------------------------- */

typedef struct Month {
        Date first;          /* the month shown */
        Date from, to;       /* its days that can be booked: from today to the horizon */
        bool prev, next;     /* months before and after it can be too */
} Month;

/* The month of "YYYY-MM" @arg (empty: this one), within today and the business's horizon. */
static bool month_of(const Work *w, const char *arg, Month *ret) {
        Date today, last, first;
        int64_t horizon = 0;
        char day[16];

        if (date_parse(json_get_string(w->scratch, "today"), &today) < 0)
                return false;
        (void) json_get_int64(w->scratch, "horizon_days", &horizon);
        last = date_from_days(date_to_days(today) + MAX(horizon, (int64_t) 0));
        first = (Date) { today.year, today.month, 1 };
        if (!isempty(arg)) {
                snprintf(day, sizeof day, "%.7s-01", arg);
                if (strlen(arg) != 7 || date_parse(day, &first) < 0)
                        return false;
        }
        int64_t m = first.year * 12 + first.month, m0 = today.year * 12 + today.month, m1 = last.year * 12 + last.month;
        if (m < m0 || m > m1)
                return false;
        Date end = date_from_days(date_to_days((Date) { first.year + first.month / 12, first.month % 12 + 1, 1 }) - 1);
        *ret = (Month) {
                .first = first,
                .from = m == m0 ? today : first,
                .to = m == m1 ? last : end,
                .prev = m > m0,
                .next = m < m1,
        };
        return true;
}

static void on_days(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *days = booking_answer(w, reply, e);
        char text[1024], prefix[BOOKING_DATA_MAX], prev[BOOKING_DATA_MAX], next[BOOKING_DATA_MAX], arg[16];
        json_object *extra;
        uint32_t open_days = 0, bookable = 0;
        Month mo;
        Pick p;

        if (!days)
                return work_commit(w);
        if (!pick_load(w, &p) || !month_of(w, p.arg, &mo))
                return booking_stale(w), work_commit(w);
        for (int d = mo.from.day; d <= mo.to.day; d++)
                bookable |= UINT32_C(1) << d;
        for (size_t i = 0; i < json_object_array_length(days); i++) {
                json_object *d = json_object_array_get_idx(days, i);
                Date day;
                int64_t n = 0;
                if (date_parse(json_get_string(d, "day"), &day) == 0 && json_get_int64(d, "free", &n) == 0 && n > 0)
                        open_days |= UINT32_C(1) << day.day;
        }
        if (mo.prev) {
                Date d = date_from_days(date_to_days(mo.first) - 1);
                snprintf(arg, sizeof arg, "%04d-%02d", d.year, d.month);
        }
        bool has_prev = mo.prev && pick_data(prev, "cl", &p, p.staff, arg);
        if (mo.next) {
                Date d = date_from_days(date_to_days(mo.first) + 31);
                snprintf(arg, sizeof arg, "%04d-%02d", d.year, d.month);
        }
        bool has_next = mo.next && pick_data(next, "cl", &p, p.staff, arg);
        if (!pick_data(prefix, "dy", &p, p.staff, "") || strlen(prefix) + 10 >= BOOKING_DATA_MAX)
                return booking_stale(w), work_commit(w);
        title_text(w, &p, text, sizeof text);
        text_appendf(text, sizeof text, "\n%s", open_days ? T(w->lang, "Choose a day (✖: no free time):")
                                                     : T(w->lang, "No free time this month."));
        extra = json_object_new_array();
        json_object_array_add(extra, row(back_to_staff(w, &p), NULL));
        booking_show(w, text, calendar_keyboard(w->lang, mo.first, open_days, bookable, prefix, has_prev ? prev : NULL,
                                                has_next ? next : NULL, extra));
        work_commit(w);
}

static void show_calendar(Work *w, Pick *p) {
        char from[16], to[16];
        Month mo;

        if (!business_service(w, p->service) || (p->staff > 0 && !business_staff(w, p->staff)) ||
            !month_of(w, p->arg, &mo))
                return booking_stale(w), work_commit(w);
        pick_save(w, p);
        date_format(mo.from, from, sizeof from);
        date_format(mo.to, to, sizeof to);
        booking_call(w, "Days", on_days, "xxss", p->service, p->staff, from, to);
}

/* --- times --------------------------------------------------------------------------------------- */

/* "2026-12-09" of the ARG "2026-12-09" or "2026-12-09:HHMM". */
static bool arg_day(const char *arg, Date *ret, char *buf, size_t size) {
        snprintf(buf, size, "%.10s", strempty(arg));
        return (strlen(arg) == 10 || (strlen(arg) == 15 && arg[10] == ':')) && date_parse(buf, ret) == 0;
}

/* The times of @slots as buttons "tm:S:P:M:DAY:HHMM", four a row, and the rows below them. */
static json_object *times_keyboard(const Pick *p, const char *day, json_object *slots, json_object *extra_rows) {
        json_object *rows = json_object_new_array(), *r = NULL;
        char arg[32], hhmm[8];

        for (size_t i = 0; i < json_object_array_length(slots); i++) {
                const char *local = strempty(json_get_string(json_object_array_get_idx(slots, i), "local"));
                if (strlen(local) != 5)
                        continue;
                if (!r || json_object_array_length(r) == TIMES_PER_ROW) {
                        r = json_object_new_array();
                        json_object_array_add(rows, r);
                }
                snprintf(hhmm, sizeof hhmm, "%.2s%.2s", local, local + 3);
                snprintf(arg, sizeof arg, "%s:%s", day, hhmm);
                json_object_array_add(r, pick_button(local, "tm", p, p->staff, arg));
        }
        for (size_t i = 0; i < json_object_array_length(extra_rows); i++)
                json_object_array_add(rows, json_object_get(json_object_array_get_idx(extra_rows, i)));
        json_object_put(extra_rows);
        return inline_keyboard(rows);
}

/* The times of the pick's day, with @note above them. */
static void show_times(Work *w, const Pick *p, json_object *slots, const char *note) {
        char text[1536], day[16], when[64], month[16];
        json_object *extra = json_object_new_array();
        Date d;

        if (!arg_day(p->arg, &d, day, sizeof day))
                return json_object_put(extra), booking_stale(w);
        snprintf(text, sizeof text, "%s", strempty(note));
        title_text(w, p, text + strlen(text), sizeof text - strlen(text));
        text_appendf(text, sizeof text, "\n🗓 %s\n%s", date_text(w->lang, d, when, sizeof when),
                     json_object_array_length(slots) ? T(w->lang, "Choose a time:")
                                                     : T(w->lang, "No free time left on this day."));
        snprintf(month, sizeof month, "%.7s", day);
        json_object_array_add(extra, row(pick_button(T(w->lang, "◀ Other day"), "cl", p, p->staff, month), NULL));
        booking_show(w, text, times_keyboard(p, day, slots, extra));
}

static void on_slots(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *slots = booking_answer(w, reply, e);
        Pick p;

        if (slots && pick_load(w, &p))
                show_times(w, &p, slots, NULL);
        else if (slots)
                booking_stale(w);
        work_commit(w);
}

/* Asks for the free starts of the pick's day, for @fn. */
static void day_slots(Work *w, const Pick *p, WorkReplyFn fn) {
        char day[16];
        Date d;

        if (!business_service(w, p->service) || (p->staff > 0 && !business_staff(w, p->staff)) ||
            !arg_day(p->arg, &d, day, sizeof day))
                return booking_stale(w), work_commit(w);
        pick_save(w, p);
        booking_call(w, "Slots", fn, "xxs", p->service, p->staff, day);
}

/* --- confirm ------------------------------------------------------------------------------------- */

static void on_confirm_slots(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *slots = booking_answer(w, reply, e);
        char text[2048], line[512], local[8], when[64], day[16], data[BOOKING_DATA_MAX], with[NAME_MAX_BYTES];
        json_object *slot = NULL, *rows;
        int64_t starts = 0, staff = 0;
        Pick p;
        Date d;

        if (!slots)
                return work_commit(w);
        if (!pick_load(w, &p) || !arg_day(p.arg, &d, day, sizeof day) || strlen(p.arg) != 15)
                return booking_stale(w), work_commit(w);
        snprintf(local, sizeof local, "%.2s:%.2s", p.arg + 11, p.arg + 13);
        for (size_t i = 0; i < json_object_array_length(slots) && !slot; i++)
                if (streq_ptr(json_get_string(json_object_array_get_idx(slots, i), "local"), local))
                        slot = json_object_array_get_idx(slots, i);
        if (!slot || json_get_int64(slot, "starts", &starts) < 0) {
                show_times(w, &p, slots, T(w->lang, "😔 That time is no longer free.\n\n"));
                return work_commit(w);
        }
        (void) json_get_int64(slot, "staff", &staff);
        snprintf(text, sizeof text, "<b>%s</b>\n\n%s\n🗓 %s, %s\n👤 %s",
                 p.move ? T(w->lang, "Move your booking to this time?") : T(w->lang, "Please check your booking"),
                 service_text(w, business_service(w, p.service), line, sizeof line),
                 date_text(w->lang, d, when, sizeof when), local,
                 html_escape(strempty(json_get_string(business_staff(w, staff), "name")), with, sizeof with));
        snprintf(line, sizeof line, "%" PRId64, starts);
        if (!pick_data(data, "ok", &p, p.staff, line))
                return booking_stale(w), work_commit(w);
        rows = json_object_new_array();
        json_object_array_add(rows, row(button(p.move ? T(w->lang, "✅ Move here") : T(w->lang, "✅ Confirm"), data), NULL));
        json_object_array_add(rows, row(pick_button(T(w->lang, "◀ Other time"), "dy", &p, p.staff, day), NULL));
        booking_show(w, text, inline_keyboard(rows));
        work_commit(w);
}

/* --- booked, or not ------------------------------------------------------------------------------ */

static void on_nearest(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *slots = booking_answer(w, reply, e);
        char text[1024], arg[32], label[96];
        json_object *rows;
        Pick p;

        if (!slots)
                return work_commit(w);
        if (!pick_load(w, &p))
                return booking_stale(w), work_commit(w);
        rows = json_object_new_array();
        snprintf(text, sizeof text, "%s", T(w->lang, "😔 Sorry, that time was just taken by someone else."));
        text_appendf(text, sizeof text, "\n\n%s", json_object_array_length(slots) ? T(w->lang, "The nearest free times:")
                                                                                   : T(w->lang, "There is no free time left."));
        for (size_t i = 0; i < json_object_array_length(slots); i++) {
                const char *local = strempty(json_get_string(json_object_array_get_idx(slots, i), "local"));
                if (strlen(local) != 16)
                        continue;
                snprintf(arg, sizeof arg, "%.10s:%.2s%.2s", local, local + 11, local + 14);
                json_object_array_add(rows, row(pick_button(local_text(w->lang, local, label, sizeof label), "tm", &p,
                                                            p.staff, arg), NULL));
        }
        json_object_array_add(rows, row(pick_button(T(w->lang, "🗓 Another day"), "st", &p, p.staff, NULL), NULL));
        (void) work_send_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

/* What the start was taken meanwhile leads to: the nearest free ones after it. */
static void offer_nearest(Work *w, Pick *p, int64_t starts) {
        p->arg = "";
        pick_save(w, p);
        booking_call(w, "Nearest", on_nearest, "xxxi", p->service, p->staff, starts, (int32_t) NEAREST);
}

static void ask_phone(Work *w, const Pick *p, int64_t starts) {
        char book[BOOKING_DATA_MAX + 32];
        json_object *k = json_object_new_object(), *rows = json_object_new_array(), *share = json_object_new_object(),
                    *cancel = json_object_new_object(), *r;

        snprintf(book, sizeof book, "%" PRId64 ":%" PRId64 ":0:%" PRId64, p->service, p->staff, starts);
        json_object_object_add(w->state, "await", json_object_new_string("phone"));
        json_object_object_add(w->state, "book", json_object_new_string(book));
        w->state_changed = true;
        json_object_object_add(share, "text", json_object_new_string(T(w->lang, "📱 Share my phone number")));
        json_object_object_add(share, "request_contact", json_object_new_boolean(true));
        json_object_object_add(cancel, "text", json_object_new_string(T(w->lang, "✖️ Cancel")));
        r = json_object_new_array();
        json_object_array_add(r, share);
        json_object_array_add(rows, r);
        r = json_object_new_array();
        json_object_array_add(r, cancel);
        json_object_array_add(rows, r);
        json_object_object_add(k, "keyboard", rows);
        json_object_object_add(k, "resize_keyboard", json_object_new_boolean(true));
        json_object_object_add(k, "one_time_keyboard", json_object_new_boolean(true));
        (void) work_send_text(w, T(w->lang, "The business asks for your phone number before booking. Share it with the "
                                            "button below, or type it."), k);
}

static void on_booked(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *answer = booking_answer(w, reply, e);
        json_object *card = json_object_object_get(answer, "booking");
        const char *outcome = json_get_string(answer, "outcome");
        char text[2048], line[1024];
        int64_t starts = 0, most = 0;
        Pick p;

        if (!answer)
                return work_commit(w);
        if (!pick_load(w, &p) || !outcome || sscanf(p.arg, "%" SCNd64, &starts) != 1)
                return booking_stale(w), work_commit(w);
        if ((streq(outcome, "booked") || streq(outcome, "moved")) && card) {
                bool requested = streq_ptr(json_get_string(card, "status"), "requested");
                snprintf(text, sizeof text, "%s\n\n%s",
                         streq(outcome, "moved") ? T(w->lang, "✅ <b>Your booking is moved.</b>")
                         : requested ? T(w->lang, "📨 <b>Request sent.</b> The business confirms it soon.")
                                     : T(w->lang, "✅ <b>You are booked!</b>"),
                         card_text(w->lang, card, line, sizeof line));
                text_appendf(text, sizeof text, "\n\n%s", T(w->lang, "See or change it in 🗂 My bookings."));
                booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, "🗂 My bookings"), "my"), NULL), NULL)));
                booking_notify(w, answer, streq(outcome, "moved") ? NOTICE_MOVED : NOTICE_BOOKED);
        } else if (streq(outcome, "taken"))
                return offer_nearest(w, &p, starts);
        else if (streq(outcome, "phone_required"))
                ask_phone(w, &p, starts);
        else if (streq(outcome, "limit")) {
                (void) json_get_int64(w->scratch, "max_active", &most);
                snprintf(text, sizeof text,
                         TN(w->lang, "You already have %" PRId64 " upcoming booking, the most this business takes. Cancel "
                                     "it in 🗂 My bookings to book another.",
                            "You already have %" PRId64 " upcoming bookings, the most this business takes. Cancel one "
                            "in 🗂 My bookings to book another.", most), most);
                booking_show(w, text, inline_keyboard(row(row(button(T(w->lang, "🗂 My bookings"), "my"), NULL), NULL)));
        } else if (streq(outcome, "too_late"))
                booking_show(w, T(w->lang, "It is too late to change this booking. Please contact the business."), NULL);
        else
                booking_stale(w);
        work_commit(w);
}

static void book(Work *w, const Pick *p, int64_t starts) {
        if (p->move > 0)
                booking_call(w, "Reschedule", on_booked, "xxxx", p->move, w->user, p->staff, starts);
        else
                booking_call(w, "Book", on_booked, "xxxx", w->user, p->service, p->staff, starts);
}

static void on_customer_for_book(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        _cleanup_(json_object_putp) json_object *customer = booking_answer(w, reply, e);
        int64_t starts;
        Pick p;

        if (!customer)
                return work_commit(w);
        if (!pick_load(w, &p) || sscanf(p.arg, "%" SCNd64, &starts) != 1)
                return booking_stale(w), work_commit(w);
        if (json_object_get_boolean(json_object_object_get(w->scratch, "phone_required")) &&
            !json_get_string(customer, "phone")) {
                ask_phone(w, &p, starts);
                return work_commit(w);
        }
        book(w, &p, starts);
}

/* ok:S:P:M:UNIX. A new booking first remembers the customer (their name and language now). */
static void confirmed(Work *w, Pick *p) {
        int64_t starts;

        if (sscanf(p->arg, "%" SCNd64, &starts) != 1 || starts <= 0)
                return booking_stale(w), work_commit(w);
        pick_save(w, p);
        if (p->move > 0)
                return book(w, p, starts);
        booking_call(w, "Customer", on_customer_for_book, "xss", w->user, booking_user_name(w), lang_to_string(w->lang));
}

/* --- the phone number ---------------------------------------------------------------------------- */

static void on_phone_set(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        int64_t starts;
        Pick p;

        if (e && sd_bus_error_has_name(e, BOOKING_ERROR_INVALID_ARGUMENT)) {
                (void) work_send_text(w, T(w->lang, "That does not look like a phone number. Type it like "
                                                    "+7 999 123-45-67, or share it with the button."), NULL);
                return work_commit(w);
        }
        if (e || !reply) {
                booking_unavailable(w);
                return work_commit(w);
        }
        if (!pick_parse(json_get_string(w->state, "book"), &p) || sscanf(p.arg, "%" SCNd64, &starts) != 1) {
                booking_stale(w);
                return work_commit(w);
        }
        json_object_object_del(w->state, "await");
        w->state_changed = true;
        pick_save(w, &p);
        json_object_object_del(w->state, "book");
        (void) work_send_text(w, T(w->lang, "Thank you!"), tenant_menu(w));
        book(w, &p, starts);
}

void book_got_phone(Work *w) {
        json_object *msg, *contact;
        const char *given = w->text;
        char phone[32];
        size_t n = 0;
        int64_t owner = 0;

        if (streq_ptr(given, T(w->lang, "✖️ Cancel"))) {
                json_object_object_del(w->state, "await");
                json_object_object_del(w->state, "book");
                w->state_changed = true;
                (void) work_send_text(w, T(w->lang, "Not booked. Choose what to do with the buttons below."),
                                      tenant_menu(w));
                return work_commit(w);
        }
        if (json_object_object_get_ex(w->root, "message", &msg) && json_object_object_get_ex(msg, "contact", &contact)) {
                if (json_get_int64(contact, "user_id", &owner) < 0 || owner != w->user) {
                        (void) work_send_text(w, T(w->lang, "Please share your own phone number."), NULL);
                        return work_commit(w);
                }
                given = json_get_string(contact, "phone_number");
        }
        /* "+7 (999) 123-45-67" → "+79991234567"; what is left is bookingd's to judge. */
        for (const char *c = strempty(given); *c && n + 1 < sizeof phone; c++)
                if ((*c >= '0' && *c <= '9') || (*c == '+' && n == 0))
                        phone[n++] = *c;
        phone[n] = 0;
        if (n == 0) {
                (void) work_send_text(w, T(w->lang, "That does not look like a phone number. Type it like "
                                                    "+7 999 123-45-67, or share it with the button."), NULL);
                return work_commit(w);
        }
        booking_call(w, "SetPhone", on_phone_set, "xs", w->user, phone);
}

/* --- dispatch ------------------------------------------------------------------------------------ */

bool book_button(Work *w, const char *data) {
        static const struct {
                const char *prefix;
                void (*fn)(Work *w, Pick *p);
        } steps[] = {
                { "sv:", show_staff }, { "st:", show_calendar }, { "cl:", show_calendar },
                { "dy:", NULL }, { "tm:", NULL }, { "ok:", confirmed },
        };
        const char *rest;
        Pick p;

        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                if (!(rest = startswith(data, steps[i].prefix)))
                        continue;
                if (!pick_parse(rest, &p))
                        booking_stale(w), work_commit(w);
                else if (steps[i].fn)
                        steps[i].fn(w, &p);
                else
                        day_slots(w, &p, streq(steps[i].prefix, "dy:") ? on_slots : on_confirm_slots);
                return true;
        }
        return false;
}
