/* SPDX-License-Identifier: MIT */
/* The shop role: menus, packages and custom amounts, confirmation, invoices through
 * org.tgfleet.Payments1, "Check payment", balance, history, help, and the messages of order
 * events. Callback data: "buy", "pkg:N", "custom", "pay:N", "check:ORDER", "cancel:ORDER",
 * "ord:ORDER:OFFSET" (an order's detail, from history page OFFSET), "bal", "hist:OFFSET" (history,
 * as a new message from the first page), "page:OFFSET" (history, in place), "help", "menu".
 *
 * The conversation state keeps "lang"; "await": "amount" while a custom amount is asked for;
 * "confirm": N, the amount of the newest confirmation (an older one's Confirm is refused); and
 * "order" with "order_msgs", the open order and the messages showing it, edited when it ends. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "botd.h"
#include "json-util.h"
#include "keyboard.h"
#include "log-fields.h"
#include "payments-bus.h"

#define HISTORY_PAGE 5

static const char *const menu_labels[] = {
        N_("⭐ Buy Stars"), N_("💰 Balance"), N_("📜 History"), N_("❓ Help"),
};
enum { MENU_BUY, MENU_BALANCE, MENU_HISTORY, MENU_HELP, _MENU_MAX };

static json_object *shop_menu(Lang l) {
        return menu_keyboard(l, menu_labels, _MENU_MAX);
}

/* --- formatting ---------------------------------------------------------------------------------- */

static char *stars_text(Lang l, int64_t n, char *buf, size_t size) {
        char num[48];
        snprintf(buf, size, TN(l, "%s Star", "%s Stars", n), format_number(l, n, num, sizeof num));
        return buf;
}

static const char *status_text(Lang l, const char *status) {
        static const struct { const char *status, *text; } map[] = {
                { "pending", N_("⏳ awaiting payment") },
                { "paid", N_("✅ paid") },
                { "paid_over", N_("✅ paid (overpaid)") },
                { "wrong_amount", N_("⚠️ part paid, the rest is due") },
                { "underpaid", N_("⚠️ underpaid, not credited") },
                { "expired", N_("⌛ expired") },
                { "failed", N_("❌ failed") },
                { "cancelled", N_("✖️ cancelled") },
                { "refunded", N_("↩️ refunded") },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(status, map[i].status))
                        return T(l, map[i].text);
        return status;
}

/* Whether an order in @status can still be paid through its link: shown with Pay and Check. */
static bool order_is_open(const char *status) {
        return streq(status, "pending") || streq(status, "wrong_amount");
}

/* --- screens ------------------------------------------------------------------------------------- */

static void show_welcome(Work *w) {
        const ShopCatalog *c = &w->b->catalog;
        char text[1024], min[48], max[48];

        snprintf(text, sizeof text,
                 T(w->lang, "<b>Telegram Stars shop</b>\n\nBuy Stars in packages or any amount from %s to %s, "
                            "and pay in crypto. Use the menu below."),
                 format_number(w->lang, c->custom_min, min, sizeof min),
                 format_number(w->lang, c->custom_max, max, sizeof max));
        (void) work_send_text(w, text, shop_menu(w->lang));
}

static void show_packages(Work *w, bool edit) {
        const ShopCatalog *c = &w->b->catalog;
        json_object *rows = json_object_new_array();
        char label[128], stars[64], price[64];

        for (size_t i = 0; i < c->n_packages; i++) {
                char data[32];
                snprintf(data, sizeof data, "pkg:%" PRId64, c->packages[i].stars);
                snprintf(label, sizeof label, "⭐ %s — %s", stars_text(w->lang, c->packages[i].stars, stars, sizeof stars),
                         format_money(w->lang, c->packages[i].price_minor, c->currency, price, sizeof price));
                json_object_array_add(rows, row(button(label, data), NULL));
        }
        json_object_array_add(rows, row(button(T(w->lang, "✏️ Other amount"), "custom"), NULL));
        if (edit)
                (void) work_edit_text(w, T(w->lang, "Choose a package:"), inline_keyboard(rows));
        else
                (void) work_send_text(w, T(w->lang, "Choose a package:"), inline_keyboard(rows));
}

static void ask_amount(Work *w) {
        const ShopCatalog *c = &w->b->catalog;
        char text[512], min[48], max[48];

        snprintf(text, sizeof text, T(w->lang, "How many Stars? Send a whole number from %s to %s."),
                 format_number(w->lang, c->custom_min, min, sizeof min), format_number(w->lang, c->custom_max, max, sizeof max));
        json_object_object_add(w->state, "await", json_object_new_string("amount"));
        w->state_changed = true;
        (void) work_edit_text(w, text, inline_keyboard(row(row(button(T(w->lang, "✖️ Cancel"), "menu"), NULL), NULL)));
}

static void show_confirm(Work *w, int64_t stars, bool edit) {
        const ShopCatalog *c = &w->b->catalog;
        char text[512], s[64], p[64], data[32];
        int64_t price;
        json_object *rows;

        if (shop_price(c, stars, &price) < 0) {
                (void) work_answer(w, T(w->lang, "This amount is not available."), true);
                return;
        }
        snprintf(text, sizeof text, T(w->lang, "You are buying <b>%s</b> for <b>%s</b>.\nConfirm to get a payment link."),
                 stars_text(w->lang, stars, s, sizeof s), format_money(w->lang, price, c->currency, p, sizeof p));
        snprintf(data, sizeof data, "pay:%" PRId64, stars);
        /* The newest confirmation: a number typed now replaces it, an older one's Confirm is refused. */
        json_object_object_add(w->state, "confirm", json_object_new_int64(stars));
        w->state_changed = true;
        rows = json_object_new_array();
        json_object_array_add(rows, row(button(T(w->lang, "✅ Confirm"), data), button(T(w->lang, "✖️ Cancel"), "menu")));
        if (edit)
                (void) work_edit_text(w, text, inline_keyboard(rows));
        else
                (void) work_send_text(w, text, inline_keyboard(rows));
}

static void show_help(Work *w) {
        const char *support = w->b->daemon.config.shop_support;
        char text[1024], line[256] = "";

        if (!isempty(support))
                snprintf(line, sizeof line, T(w->lang, "\n\nSupport: %s"), support);
        snprintf(text, sizeof text, "%s%s",
                 T(w->lang, "<b>How it works</b>\n1. Buy Stars: pick a package or send any amount.\n"
                            "2. Confirm, then pay through the Pay button.\n"
                            "3. The Stars are credited as soon as the payment is confirmed; you get a message.\n\n"
                            "Check payment asks the payment provider right away. You can have one open order at a "
                            "time: an unpaid one expires on its own, or Cancel order ends it at once.\n\n"
                            "History lists your orders; a number under it shows that order."),
                 line);
        (void) work_send_text(w, text, NULL);
}

static void unavailable(Work *w) {
        const char *text = T(w->lang, "Payments are temporarily unavailable. Please try again in a few minutes.");
        if (w->callback_id)
                (void) work_answer(w, text, true);
        else
                (void) work_send_text(w, text, NULL);
}

/* --- calls to paymentd --------------------------------------------------------------------------- */

#define payments_call(w, method, fn, ...) \
        work_bus_call(w, PAYMENTS_BUS_NAME, PAYMENTS_BUS_PATH, method, fn, __VA_ARGS__)

static bool failed(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        if (!e && reply)
                return false;
        if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_NO_SUCH_ORDER))
                /* Not this user's order (a forged button), or gone. */
                (void) work_answer(w, T(w->lang, "This button is no longer valid."), false);
        else if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_INVALID_AMOUNT)) {
                if (w->callback_id)
                        (void) work_answer(w, T(w->lang, "This amount is not available."), true);
                else
                        (void) work_send_text(w, T(w->lang, "This amount is not available."), NULL);
        } else
                unavailable(w);
        work_commit(w);
        return true;
}

/* Reads the order a call returned; on any failure tells the user, commits, and returns false. */
static bool reply_order(Work *w, sd_bus_message *reply, const sd_bus_error *e, Order *ret) {
        if (failed(w, reply, e))
                return false;
        if (payments_order_read(reply, ret) <= 0) {
                unavailable(w);
                work_commit(w);
                return false;
        }
        return true;
}

/* --- orders -------------------------------------------------------------------------------------- */

/* The order as the chat shows it, after @prefix: what, for how much, its state and, while it can
 * be paid, until when. Returns the buttons of what can still be done with it (a new array). */
static json_object *order_view(Work *w, const Order *o, const char *prefix, char *text, size_t size) {
        char s[64], p[64], q[64], t[64], data[160];
        json_object *rows = json_object_new_array();
        Lang l = w->lang;
        size_t len;

#define ADD(...) (len += (size_t) snprintf(text + len, size - MIN(len, size), __VA_ARGS__), len = MIN(len, size - 1))
        len = 0;
        ADD(T(l, "%sOrder <code>%s</code>: <b>%s</b> for <b>%s</b>.\nStatus: %s"), prefix, o->public_id,
            stars_text(l, o->stars, s, sizeof s), format_money(l, o->price_minor, o->currency, p, sizeof p),
            status_text(l, o->status));
        if (o->paid_minor >= 0 && !streq(o->status, "pending"))
                ADD(T(l, "\nReceived: %s"), format_money(l, o->paid_minor, o->currency, q, sizeof q));
        if (o->created_at > 0)
                ADD(T(l, "\nCreated: %s"), format_time(l, o->created_at, t, sizeof t));
        if (order_is_open(o->status) && o->expires_at > 0)
                ADD(T(l, "\nPay before %s. The Stars are credited as soon as the payment is confirmed."),
                    format_time(l, o->expires_at, t, sizeof t));
        if (streq(o->status, "cancelled"))
                ADD("%s", T(l, "\nIf it is paid through its link anyway, the payment is still credited."));
#undef ADD
        if (order_is_open(o->status)) {
                if (!isempty(o->pay_url))
                        json_object_array_add(rows, row(url_button(T(l, "💳 Pay"), o->pay_url), NULL));
                snprintf(data, sizeof data, "check:%s", o->public_id);
                json_object_array_add(rows, row(button(T(l, "🔄 Check payment"), data), NULL));
                if (streq(o->status, "pending")) {
                        snprintf(data, sizeof data, "cancel:%s", o->public_id);
                        json_object_array_add(rows, row(button(T(l, "✖️ Cancel order"), data), NULL));
                }
        } else
                json_object_array_add(rows, row(button(T(l, menu_labels[MENU_BUY]), "buy"), NULL));
        return rows;
}

#define ORDER_MESSAGES_MAX 3   /* the edits of one order fit in one plan (WORK_CALLS_MAX) */

/* Remembers that message @message shows the open order @o, to edit it when the order ends. */
static void remember_order_message(Work *w, const Order *o, int64_t message) {
        json_object *msgs;

        if (message <= 0)
                return;
        if (!streq_ptr(json_get_string(w->state, "order"), o->public_id)) {
                json_object_object_add(w->state, "order", json_object_new_string(o->public_id));
                json_object_object_add(w->state, "order_msgs", json_object_new_array());
        }
        if (!json_object_object_get_ex(w->state, "order_msgs", &msgs) || !json_object_is_type(msgs, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(msgs); i++)
                if (json_object_get_int64(json_object_array_get_idx(msgs, i)) == message)
                        return;
        if (json_object_array_length(msgs) >= ORDER_MESSAGES_MAX)
                json_object_array_del_idx(msgs, 0, 1);
        json_object_array_add(msgs, json_object_new_int64(message));
        w->state_changed = true;
}

/* Shows the ended order @o everywhere the chat shows it: the pressed message, and the messages
 * remembered for it (then forgotten), so that no Pay or Check stays under an order that ended. */
static void show_ended_order(Work *w, const Order *o) {
        char text[1536];
        json_object *msgs = NULL;
        bool pressed_done = false;

        if (streq_ptr(json_get_string(w->state, "order"), o->public_id) &&
            json_object_object_get_ex(w->state, "order_msgs", &msgs) && json_object_is_type(msgs, json_type_array))
                for (size_t i = 0; i < json_object_array_length(msgs); i++) {
                        int64_t id = json_object_get_int64(json_object_array_get_idx(msgs, i));
                        json_object *rows = order_view(w, o, "", text, sizeof text);

                        pressed_done = pressed_done || id == w->callback_message;
                        (void) work_edit_message(w, id, text, inline_keyboard(rows));
                }
        if (w->callback_message > 0 && !pressed_done) {
                json_object *rows = order_view(w, o, "", text, sizeof text);
                (void) work_edit_text(w, text, inline_keyboard(rows));
        }
        if (msgs) {
                json_object_object_del(w->state, "order");
                json_object_object_del(w->state, "order_msgs");
                w->state_changed = true;
        }
}

static void on_invoice(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        int64_t asked = strtoll(w->callback_data + strlen("pay:"), NULL, 10);
        const char *prefix = "";
        char text[1536];
        json_object *rows;
        Order o;

        if (!reply_order(w, reply, e, &o))
                return;
        if (o.stars != asked)
                prefix = T(w->lang, "You already have an unpaid order; here it is. Pay it or cancel it to start "
                                    "another.\n\n");
        rows = order_view(w, &o, prefix, text, sizeof text);
        (void) work_edit_text(w, text, inline_keyboard(rows));
        remember_order_message(w, &o, w->callback_message);
        work_commit(w);
}

static void on_checked(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        Order o;

        if (!reply_order(w, reply, e, &o))
                return;
        if (streq(o.status, "pending"))
                (void) work_answer(w, T(w->lang, "Not paid yet. A payment just made can take a few minutes to "
                                                 "confirm."), true);
        else
                (void) work_answer(w, status_text(w->lang, o.status), true);
        if (!order_is_open(o.status))
                show_ended_order(w, &o);
        work_commit(w);
}

static void on_cancelled(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        char text[1536];
        Order o;

        if (!reply_order(w, reply, e, &o))
                return;
        if (streq(o.status, "cancelled"))
                (void) work_answer(w, T(w->lang, "Order cancelled. You can start a new purchase."), false);
        else if (streq(o.status, "wrong_amount"))
                (void) work_answer(w, T(w->lang, "Part of this order is paid, so it can no longer be cancelled: pay "
                                                 "the rest through its link, or contact support."), true);
        else
                (void) work_answer(w, status_text(w->lang, o.status), true);
        if (order_is_open(o.status)) {
                json_object *rows = order_view(w, &o, "", text, sizeof text);
                (void) work_edit_text(w, text, inline_keyboard(rows));
        } else
                show_ended_order(w, &o);
        work_commit(w);
}

/* "ord:ORDER:OFFSET": the order in full, with a way back to the history page it was on. */
static void on_order_detail(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        const char *colon = strrchr(w->callback_data, ':');
        char text[1536], data[32];
        json_object *rows;
        Order o;

        if (!reply_order(w, reply, e, &o))
                return;
        rows = order_view(w, &o, "", text, sizeof text);
        snprintf(data, sizeof data, "page:%lu", strtoul(colon ? colon + 1 : "0", NULL, 10));
        json_object_array_add(rows, row(button(T(w->lang, "◀️ History"), data), NULL));
        (void) work_edit_text(w, text, inline_keyboard(rows));
        if (order_is_open(o.status))
                remember_order_message(w, &o, w->callback_message);
        work_commit(w);
}

static void on_balance(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        char text[256], s[64];
        int64_t balance;
        json_object *rows;

        if (failed(w, reply, e))
                return;
        if (sd_bus_message_read(reply, "x", &balance) < 0) {
                unavailable(w);
                return work_commit(w);
        }
        snprintf(text, sizeof text, T(w->lang, "Your balance: <b>%s</b>"), stars_text(w->lang, balance, s, sizeof s));
        rows = json_object_new_array();
        json_object_array_add(rows, row(button(T(w->lang, menu_labels[MENU_BUY]), "buy"),
                                        button(T(w->lang, menu_labels[MENU_HISTORY]), "hist:0")));
        (void) work_send_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

/* The offset of the history page a press asks for ("hist:N", "page:N"), 0 for none. */
static uint32_t history_offset(const Work *w) {
        const char *d = strempty(w->callback_data), *arg = startswith(d, "hist:") ?: startswith(d, "page:");
        return arg ? (uint32_t) strtoul(arg, NULL, 10) : 0;
}

static void on_history(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        char text[3072], line[512], when[64], s[64], p[64], data[160], label[16];
        uint32_t total, offset = history_offset(w), i = 0;
        size_t len;
        json_object *rows, *pick, *nav, *markup = NULL;
        Order o;
        int r;

        if (failed(w, reply, e))
                return;
        rows = json_object_new_array();
        pick = json_object_new_array();
        nav = json_object_new_array();
        len = (size_t) snprintf(text, sizeof text, "%s\n", T(w->lang, "<b>Your orders</b>"));
        r = sd_bus_message_enter_container(reply, 'a', ORDER_SIGNATURE);
        while (r >= 0 && (r = payments_order_read(reply, &o)) > 0) {
                i++;
                snprintf(line, sizeof line, "\n%u. %s — %s — %s — %s\n<code>%s</code>", offset + i,
                         format_time(w->lang, o.created_at, when, sizeof when), stars_text(w->lang, o.stars, s, sizeof s),
                         format_money(w->lang, o.price_minor, o.currency, p, sizeof p), status_text(w->lang, o.status),
                         o.public_id);
                len += (size_t) snprintf(text + len, sizeof text - MIN(len, sizeof text), "%s", line);
                len = MIN(len, sizeof text - 1);
                snprintf(label, sizeof label, "%u", offset + i);
                snprintf(data, sizeof data, "ord:%s:%u", o.public_id, offset);
                json_object_array_add(pick, button(label, data));
        }
        if (r < 0 || sd_bus_message_exit_container(reply) < 0 || sd_bus_message_read(reply, "u", &total) < 0) {
                json_object_put(rows);
                json_object_put(pick);
                json_object_put(nav);
                unavailable(w);
                return work_commit(w);
        }
        if (total == 0)
                snprintf(text, sizeof text, "%s", T(w->lang, "No orders yet."));
        else {
                snprintf(line, sizeof line, T(w->lang, "\n\nPage %u of %u. A number below shows that order."),
                         offset / HISTORY_PAGE + 1, (total + HISTORY_PAGE - 1) / HISTORY_PAGE);
                snprintf(text + len, sizeof text - len, "%s", line);
        }
        if (offset > 0) {
                snprintf(data, sizeof data, "page:%u", offset >= HISTORY_PAGE ? offset - HISTORY_PAGE : 0);
                json_object_array_add(nav, button(T(w->lang, "◀️ Newer"), data));
        }
        if (offset + HISTORY_PAGE < total) {
                snprintf(data, sizeof data, "page:%u", offset + HISTORY_PAGE);
                json_object_array_add(nav, button(T(w->lang, "Older ▶️"), data));
        }
        if (json_object_array_length(pick) > 0)
                json_object_array_add(rows, pick);
        else
                json_object_put(pick);
        if (json_object_array_length(nav) > 0)
                json_object_array_add(rows, nav);
        else
                json_object_put(nav);
        if (json_object_array_length(rows) > 0)
                markup = inline_keyboard(rows);
        else
                json_object_put(rows);
        /* A page turned, or back from an order: in place. From the menu: a new message. */
        if (w->callback_data &&
            (startswith(w->callback_data, "page:") || (startswith(w->callback_data, "hist:") && offset > 0)))
                (void) work_edit_text(w, text, markup);
        else
                (void) work_send_text(w, text, markup);
        work_commit(w);
}

static void show_balance(Work *w) {
        payments_call(w, "GetBalance", on_balance, "x", w->user);
}

static void show_history(Work *w, uint32_t offset) {
        payments_call(w, "ListOrders", on_history, "sxuu", w->b->bot, w->user, offset, (uint32_t) HISTORY_PAGE);
}

/* --- dispatch ------------------------------------------------------------------------------------ */

static void clear_await(Work *w) {
        if (json_object_object_get_ex(w->state, "await", NULL) || json_object_object_get_ex(w->state, "confirm", NULL)) {
                json_object_object_del(w->state, "await");
                json_object_object_del(w->state, "confirm");
                w->state_changed = true;
        }
}

/* A number typed while an amount is asked for, or on a confirmation (it replaces that one).
 * Returns false when @w->text is no amount and none was asked for: the caller goes on. */
static bool handle_amount(Work *w) {
        const ShopCatalog *c = &w->b->catalog;
        bool asked = streq_ptr(json_get_string(w->state, "await"), "amount");
        char text[256], num[64];
        int64_t stars;
        ShopAmount a;

        /* Digits grouped as the user's language writes them: "1,000" in English, "1 000" in both. */
        a = shop_parse_amount(c, w->text, w->lang == LANG_EN ? "," : NULL, &stars);
        if (a != SHOP_AMOUNT_OK && !asked && !json_object_object_get_ex(w->state, "confirm", NULL))
                return false;
        if (a == SHOP_AMOUNT_NOT_NUMBER && !asked)
                return false;
        switch (a) {
        case SHOP_AMOUNT_OK:
                json_object_object_add(w->state, "await", json_object_new_string("amount"));
                show_confirm(w, stars, false);
                break;
        case SHOP_AMOUNT_NOT_NUMBER:
                (void) work_send_text(w, T(w->lang, "That is not a whole number. Send the number of Stars, e.g. 750."), NULL);
                break;
        case SHOP_AMOUNT_TOO_SMALL:
                snprintf(text, sizeof text, T(w->lang, "That is too few: the minimum is %s."),
                         stars_text(w->lang, c->custom_min, num, sizeof num));
                (void) work_send_text(w, text, NULL);
                break;
        case SHOP_AMOUNT_TOO_LARGE:
                snprintf(text, sizeof text, T(w->lang, "That is too many: the maximum is %s."),
                         stars_text(w->lang, c->custom_max, num, sizeof num));
                (void) work_send_text(w, text, NULL);
                break;
        }
        work_commit(w);
        return true;
}

static void handle_text(Work *w) {
        const char *t = w->text;

        if (!t) {
                (void) work_send_text(w, T(w->lang, "I understand text and the buttons below."), shop_menu(w->lang));
                return work_commit(w);
        }
        /* Commands, with an optional @bot suffix or /start payload. */
        if (streq(t, "/start") || startswith(t, "/start ") || startswith(t, "/start@")) {
                clear_await(w);
                show_welcome(w);
                return work_commit(w);
        }
        switch (menu_pick(t, menu_labels, _MENU_MAX)) {
        case MENU_BUY:
                clear_await(w);
                show_packages(w, false);
                return work_commit(w);
        case MENU_BALANCE:
                clear_await(w);
                return show_balance(w);
        case MENU_HISTORY:
                clear_await(w);
                return show_history(w, 0);
        case MENU_HELP:
                clear_await(w);
                show_help(w);
                return work_commit(w);
        }
        if (startswith(t, "/buy")) {
                clear_await(w);
                show_packages(w, false);
                return work_commit(w);
        }
        if (startswith(t, "/balance"))
                return show_balance(w);
        if (startswith(t, "/history"))
                return show_history(w, 0);
        if (startswith(t, "/help")) {
                show_help(w);
                return work_commit(w);
        }
        if (handle_amount(w))
                return;
        (void) work_send_text(w, T(w->lang, "I did not understand that. Use the menu below, or /help."),
                              shop_menu(w->lang));
        work_commit(w);
}

static void handle_button(Work *w) {
        const char *d = strempty(w->callback_data), *arg;
        char order[130];
        int64_t stars, confirm;

        if (streq(d, "buy")) {
                clear_await(w);
                show_packages(w, true);
        } else if ((arg = startswith(d, "pkg:"))) {
                stars = strtoll(arg, NULL, 10);
                show_confirm(w, stars, true);
        } else if (streq(d, "custom")) {
                ask_amount(w);
        } else if (startswith(d, "pay:")) {
                stars = strtoll(d + 4, NULL, 10);
                if (json_get_int64(w->state, "confirm", &confirm) == 0 && confirm != stars)
                        (void) work_answer(w, T(w->lang, "A newer amount replaced this one: confirm the latest."), true);
                else {
                        clear_await(w);
                        return payments_call(w, "CreateInvoice", on_invoice, "sxx", w->b->bot, w->user, stars);
                }
        } else if ((arg = startswith(d, "check:"))) {
                return payments_call(w, "CheckOrder", on_checked, "sx", arg, w->user);
        } else if ((arg = startswith(d, "cancel:"))) {
                return payments_call(w, "CancelOrder", on_cancelled, "sx", arg, w->user);
        } else if ((arg = startswith(d, "ord:")) && strchr(arg, ':') &&
                   (size_t) (strchr(arg, ':') - arg) < sizeof order) {
                snprintf(order, sizeof order, "%.*s", (int) (strchr(arg, ':') - arg), arg);
                return payments_call(w, "GetOrder", on_order_detail, "sx", order, w->user);
        } else if (streq(d, "bal")) {
                return show_balance(w);
        } else if (startswith(d, "hist:") || startswith(d, "page:")) {
                return show_history(w, history_offset(w));
        } else if (streq(d, "help")) {
                show_help(w);
        } else if (streq(d, "menu")) {
                clear_await(w);
                show_packages(w, true);
        } else
                (void) work_answer(w, T(w->lang, "This button is no longer valid."), false);
        work_commit(w);
}

static void shop_handle_update(Work *w) {
        if (w->callback_id)
                handle_button(w);
        else
                handle_text(w);
}

/* --- order events -------------------------------------------------------------------------------- */

static void shop_handle_event(Work *w) {
        const char *type = json_get_string(w->root, "type"), *order = json_get_string(w->root, "order");
        const char *currency = strempty(json_get_string(w->root, "currency"));
        int64_t stars = strtoll(strempty(json_get_string(w->root, "stars")), NULL, 10);
        int64_t balance = strtoll(strempty(json_get_string(w->root, "balance")), NULL, 10);
        int64_t price = strtoll(strempty(json_get_string(w->root, "price_minor")), NULL, 10);
        int64_t paid = strtoll(strempty(json_get_string(w->root, "paid_minor")), NULL, 10);
        const char *support = w->b->daemon.config.shop_support;
        char text[1024], s[64], b[64], p1[64], p2[64], p3[64];
        const char *status = json_get_string(w->root, "status");
        Lang l = w->lang;
        Order o;

        if (!type || !order || !status || strlen(order) >= sizeof o.public_id || strlen(currency) >= sizeof o.currency ||
            strlen(status) >= sizeof o.status)
                return work_commit(w);
        /* An ended order loses its Pay and Check wherever the chat shows it. */
        if (!order_is_open(status)) {
                o = (Order) { .stars = stars, .price_minor = price, .paid_minor = paid };
                strcpy(o.public_id, order);
                strcpy(o.currency, currency);
                strcpy(o.status, status);
                show_ended_order(w, &o);
        }
        stars_text(l, stars, s, sizeof s);
        stars_text(l, balance, b, sizeof b);
        if (streq(type, "order.paid"))
                snprintf(text, sizeof text, T(l, "✅ Payment received for order <code>%s</code>: %s credited.\nBalance: <b>%s</b>."),
                         order, s, b);
        else if (streq(type, "order.paid_over"))
                snprintf(text, sizeof text,
                         T(l, "✅ Payment received for order <code>%s</code>: %s credited.\nYou paid %s, more than the "
                              "%s asked: contact support %s about the difference.\nBalance: <b>%s</b>."),
                         order, s, format_money(l, paid, currency, p1, sizeof p1),
                         format_money(l, price, currency, p2, sizeof p2), strempty(support), b);
        else if (streq(type, "order.wrong_amount"))
                snprintf(text, sizeof text,
                         T(l, "⚠️ Order <code>%s</code>: received %s of %s. Pay the remaining %s through the same "
                              "link before it expires, or contact support %s. Nothing is credited until the whole "
                              "amount arrives."),
                         order, format_money(l, paid >= 0 ? paid : 0, currency, p1, sizeof p1),
                         format_money(l, price, currency, p2, sizeof p2),
                         format_money(l, price - MAX(paid, (int64_t) 0), currency, p3, sizeof p3), strempty(support));
        else if (streq(type, "order.underpaid"))
                snprintf(text, sizeof text,
                         T(l, "⚠️ Order <code>%s</code> is closed: %s of %s arrived, and the rest can no longer be "
                              "paid. Nothing was credited. Contact support %s with the order number: the payment "
                              "is returned or completed by hand."),
                         order, format_money(l, paid >= 0 ? paid : 0, currency, p1, sizeof p1),
                         format_money(l, price, currency, p2, sizeof p2), strempty(support));
        else if (streq(type, "order.expired"))
                snprintf(text, sizeof text,
                         T(l, "⌛ Order <code>%s</code> expired unpaid. You can start a new purchase at any time."), order);
        else if (streq(type, "order.failed"))
                snprintf(text, sizeof text,
                         T(l, "❌ The payment of order <code>%s</code> failed. Nothing was credited; you can try again."),
                         order);
        else if (streq(type, "order.refunded"))
                snprintf(text, sizeof text, T(l, "↩️ Order <code>%s</code> was refunded: %s taken back.\nBalance: <b>%s</b>."),
                         order, s, b);
        else   /* order.cancelled: the user's own doing, already shown */
                return work_commit(w);
        (void) work_send_text(w, text, NULL);
        work_commit(w);
}

static int shop_setup(Botd *b) {
        int r = shop_catalog_load(&b->daemon.config, &b->catalog);

        if (r < 0)
                return log_error_errno(r, "Invalid [Shop] settings (Packages=, StarPrice=, Currency=, CustomMin/Max=).");
        return 0;
}

/* SIGHUP: the packages and prices shown, as paymentd charges them after its own reload. */
static int shop_reload(Botd *b, const Config *next) {
        ShopCatalog catalog;
        int r = shop_catalog_load(next, &catalog);

        if (r < 0)
                return log_error_errno(r, "Invalid [Shop] settings (Packages=, StarPrice=, Currency=, CustomMin/Max=).");
        b->catalog = catalog;
        return 0;
}

const BotRole shop_role = {
        .name = "shop",
        .setup = shop_setup,
        .reload = shop_reload,
        .handle_update = shop_handle_update,
        .handle_event = shop_handle_event,
        .needs_bus = true,
};
