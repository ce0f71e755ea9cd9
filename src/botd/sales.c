/* SPDX-License-Identifier: MIT */
/* The sales role: the booking platform sold in Telegram. What it offers and costs, a new
 * business (plan, name, time zone, bot token, then payment), the owner's bots with Extend, the
 * payment through YooKassa with Check payment, and the news of subscription.* events (from
 * paymentd: payments, and the lifecycle's reminders, suspension, last warning and removal, each
 * with Renew) and client.* events (from deployd: the bot is live, or could not be started).
 *
 * The token is never kept here: its message is deleted at once and the token handed to deployd
 * (Deploy1.AddClient), which checks it with getMe, records the client pending and stores the
 * token; the update holding it is erased once handled. Prices are paymentd's, from the same
 * [Sales] Plans= this bot shows.
 *
 * Callback data: "menu", "faq", "new" (the plans), "np:DAYS" (a new business's plan), "tz:N"
 * (a time zone of the table), "my" (My bots), "ex:CLIENT" (Extend: the plans), "xp:CLIENT:DAYS"
 * (the plan chosen), "pay:CLIENT:DAYS:AUTO" (open the payment; AUTO 1 saves the method for
 * renewals), "ck:PAYMENT" (Check payment), "ar0:CLIENT" (auto-renewal off), "tr:CLIENT" (start
 * the free trial; "np:0" chose it), "cancel". Every id in a button is checked again by paymentd
 * against the owner, so a forged one changes nothing.
 *
 * The conversation state keeps "lang"; while a new business is entered, "await" ("name", "tz",
 * "token") with "days", "name" and "tz" as far as given; while the contact for 54-FZ receipts is
 * asked, "await" "contact" with "pay", the CLIENT:DAYS:AUTO of the payment to open then. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot-api.h"
#include "botd.h"
#include "deploy-bus.h"
#include "json-util.h"
#include "keyboard.h"
#include "log.h"
#include "payments-bus.h"
#include "tenant.h"
#include "utf8.h"

#define TIME_ZONE_MAX 64

#define payments_call(w, method, fn, ...) \
        work_bus_call(w, PAYMENTS_BUS_NAME, PAYMENTS_BUS_PATH, method, fn, __VA_ARGS__)

static const char *const menu_labels[] = {
        N_("🚀 New booking bot"), N_("🤖 My bots"), N_("❓ FAQ"),
};
enum { MENU_NEW, MENU_MY, MENU_FAQ, _MENU_MAX };

/* The time zones offered as buttons; any other IANA name can be typed. */
static const struct { const char *zone, *label; } zones[] = {
        { "Europe/Kaliningrad", N_("Kaliningrad (UTC+2)") }, { "Europe/Moscow", N_("Moscow (UTC+3)") },
        { "Europe/Samara", N_("Samara (UTC+4)") },           { "Asia/Yekaterinburg", N_("Yekaterinburg (UTC+5)") },
        { "Asia/Omsk", N_("Omsk (UTC+6)") },                 { "Asia/Novosibirsk", N_("Novosibirsk (UTC+7)") },
        { "Asia/Irkutsk", N_("Irkutsk (UTC+8)") },           { "Asia/Vladivostok", N_("Vladivostok (UTC+10)") },
        { "Europe/Minsk", N_("Minsk (UTC+3)") },             { "Asia/Almaty", N_("Almaty (UTC+5)") },
};

static json_object *sales_menu(Lang l) {
        return menu_keyboard(l, menu_labels, _MENU_MAX);
}

static json_object *cancel_keyboard(Lang l) {
        return inline_keyboard(row(row(button(T(l, "✖️ Cancel"), "cancel"), NULL), NULL));
}

/* Says @text: as a pop-up for a button press, else as a message. */
static void say(Work *w, const char *text) {
        if (w->callback_id)
                (void) work_answer(w, text, true);
        else
                (void) work_send_text(w, text, NULL);
}

static void unavailable(Work *w) {
        say(w, T(w->lang, "Payments are temporarily unavailable. Please try again in a few minutes."));
}

static void stale(Work *w) {
        say(w, T(w->lang, "This button is no longer valid."));
}

static void clear_await(Work *w) {
        if (json_object_object_get_ex(w->state, "await", NULL)) {
                json_object_object_del(w->state, "await");
                json_object_object_del(w->state, "days");
                json_object_object_del(w->state, "name");
                json_object_object_del(w->state, "tz");
                json_object_object_del(w->state, "pay");
                w->state_changed = true;
        }
}

static const char *status_text(Lang l, const char *status) {
        static const struct { const char *status, *text; } map[] = {
                { "pending", N_("🕓 awaiting payment") }, { "deploying", N_("⚙️ being set up") },
                { "active", N_("✅ running") },           { "suspended", N_("⏸ stopped") },
                { "failed", N_("⚠️ not started, our team is on it") },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(status, map[i].status))
                        return T(l, map[i].text);
        return status;
}

/* A YooKassa cancellation reason in plain words. */
static const char *reason_text(Lang l, const char *reason) {
        static const struct { const char *reason, *text; } map[] = {
                { "3d_secure_failed", N_("the card's confirmation code (3-D Secure) was not entered or was wrong") },
                { "call_issuer", N_("your bank declined it; call the bank for the reason") },
                { "card_expired", N_("the card has expired") },
                { "insufficient_funds", N_("there was not enough money") },
                { "expired_on_confirmation", N_("it was not paid in time") },
                { "canceled_by_merchant", N_("it was cancelled by us") },
                { "fraud_suspected", N_("the bank suspected fraud and blocked it") },
                { "payment_method_restricted", N_("this payment method is restricted") },
                { "permission_revoked", N_("the permission to charge the saved card was withdrawn") },
                { "invalid_method", N_("the saved card is no longer accepted") },
                { "receipt_contact", N_("there is no e-mail or phone number to send its receipt to") },
                { "general_decline", N_("the bank declined it") },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq_ptr(reason, map[i].reason))
                        return T(l, map[i].text);
        return T(l, "the bank or YooKassa declined it");
}

/* --- plans --------------------------------------------------------------------------------------- */

static const SalesPlan *plan_of(Work *w, int64_t days) {
        return sales_plan_find(&w->b->plans, days);
}

/* "30 days — 299 ₽", with the price a month and the saving against the shortest plan. */
static char *plan_text(Work *w, const SalesPlan *p, bool details, char *buf, size_t size) {
        const SalesPlans *all = &w->b->plans;
        const SalesPlan *base = &all->plans[0];
        char price[48], monthly[48];
        int64_t saving;

        for (size_t i = 1; i < all->n_plans; i++)
                if (all->plans[i].days < base->days)
                        base = &all->plans[i];
        snprintf(buf, size, TN(w->lang, "%" PRId64 " day — %s", "%" PRId64 " days — %s", p->days), p->days,
                 format_money(w->lang, p->price_minor, all->currency, price, sizeof price));
        if (!details || p->days < 60)
                return buf;
        text_appendf(buf, size, T(w->lang, " (%s a month"),
                     format_money(w->lang, sales_plan_monthly(p), all->currency, monthly, sizeof monthly));
        /* Against the shortest plan's monthly price, rounded to the nearest per cent. */
        int64_t b = MAX(sales_plan_monthly(base), (int64_t) 1);
        saving = ((b - sales_plan_monthly(p)) * 100 + b / 2) / b;
        if (p != base && saving > 0)
                text_appendf(buf, size, T(w->lang, ", you save %" PRId64 "%%"), saving);
        text_appendf(buf, size, ")");
        return buf;
}

/* "Free trial — 14 days". */
static const char *trial_text(Work *w, char *buf, size_t size) {
        int64_t days = w->b->plans.trial_days;

        snprintf(buf, size, TN(w->lang, "🎁 Free trial — %" PRId64 " day", "🎁 Free trial — %" PRId64 " days", days), days);
        return buf;
}

/* The plans as buttons "PREFIX<days>", after the free trial ("PREFIX0") when @trial and there is
 * one. */
static json_object *plans_keyboard(Work *w, const char *prefix, bool trial) {
        json_object *rows = json_object_new_array();
        char label[128], data[64];

        if (trial && w->b->plans.trial_days > 0) {
                snprintf(data, sizeof data, "%s0", prefix);
                json_object_array_add(rows, row(button(trial_text(w, label, sizeof label), data), NULL));
        }
        for (size_t i = 0; i < w->b->plans.n_plans; i++) {
                const SalesPlan *p = &w->b->plans.plans[i];
                snprintf(data, sizeof data, "%s%" PRId64, prefix, p->days);
                json_object_array_add(rows, row(button(plan_text(w, p, false, label, sizeof label), data), NULL));
        }
        json_object_array_add(rows, row(button(T(w->lang, "✖️ Cancel"), "cancel"), NULL));
        return inline_keyboard(rows);
}

/* --- screens ------------------------------------------------------------------------------------- */

static void show_welcome(Work *w) {
        char text[2048], line[256];
        const char *support = w->b->daemon.config.sales_support;

        snprintf(text, sizeof text, "%s",
                 T(w->lang, "<b>Your own booking bot</b>\n\nYour customers book, cancel and reschedule in your "
                            "business's own Telegram bot, at any hour; you hear of every booking at once. We run "
                            "the bot for you: you only create it in @BotFather and send me its token.\n\n<b>Plans</b>"));
        for (size_t i = 0; i < w->b->plans.n_plans; i++)
                text_appendf(text, sizeof text, "\n• %s", plan_text(w, &w->b->plans.plans[i], true, line, sizeof line));
        if (w->b->plans.trial_days > 0)
                text_appendf(text, sizeof text, T(w->lang, "\n• %s, no card needed"), trial_text(w, line, sizeof line));
        if (!isempty(support))
                text_appendf(text, sizeof text, T(w->lang, "\n\nSupport: %s"), html_escape(support, line, sizeof line));
        json_object *rows = json_object_new_array();
        json_object_array_add(rows, row(button(T(w->lang, menu_labels[MENU_NEW]), "new"), NULL));
        json_object_array_add(rows, row(button(T(w->lang, menu_labels[MENU_MY]), "my"),
                                        button(T(w->lang, menu_labels[MENU_FAQ]), "faq")));
        (void) work_send_text(w, text, sales_menu(w->lang));
        (void) work_send_text(w, T(w->lang, "What would you like to do?"), inline_keyboard(rows));
}

static void show_faq(Work *w) {
        const Config *c = &w->b->daemon.config;
        char text[2048], support[256], hours[32];

        snprintf(hours, sizeof hours, "%" PRIu64, MAX(c->sales_pending_ttl_usec / (3600 * USEC_PER_SEC), (uint64_t) 1));
        snprintf(text, sizeof text,
                 T(w->lang, "<b>How does it work?</b>\n1. Choose a plan.\n2. Give your business's name and time zone.\n"
                            "3. Create a bot in @BotFather (/newbot) and send me the token it gives you.\n"
                            "4. Pay with YooKassa. Your bot starts within a minute of the payment, and I tell you.\n\n"
                            "<b>Is my token safe?</b> I delete your message with it at once. It is kept only where "
                            "your bot runs, and deleted when your bot is removed.\n\n"
                            "<b>What if I do not pay right away?</b> Your bot waits %s h for its payment, then it is "
                            "forgotten, with its token.\n\n"
                            "<b>How do I renew?</b> My bots → Extend. The time you buy is added to what is left."),
                 hours);
        if (w->b->plans.trial_days > 0)
                text_appendf(text, sizeof text,
                             TN(w->lang, "\n\n<b>Can I try it first?</b> Yes: %" PRId64 " day free, once per person and "
                                         "per bot. Choose the free trial instead of a plan.",
                                "\n\n<b>Can I try it first?</b> Yes: %" PRId64 " days free, once per person and per "
                                "bot. Choose the free trial instead of a plan.", w->b->plans.trial_days),
                             w->b->plans.trial_days);
        if (!isempty(c->sales_support))
                text_appendf(text, sizeof text, T(w->lang, "\n\nSupport: %s"),
                             html_escape(c->sales_support, support, sizeof support));
        (void) work_send_text(w, text, NULL);
}

static void show_plans(Work *w) {
        const char *text = T(w->lang, "<b>New booking bot</b>\nChoose a plan:");

        clear_await(w);
        if (w->callback_id)
                (void) work_edit_text(w, text, plans_keyboard(w, "np:", true));
        else
                (void) work_send_text(w, text, plans_keyboard(w, "np:", true));
}

/* The DAYS of "np:DAYS": a plan's, or 0 for the free trial when there is one. */
static bool new_plan(Work *w, const char *arg, int64_t *ret_days) {
        char *end;
        int64_t days = strtoll(arg, &end, 10);

        if (end == arg || *end || (days == 0 ? w->b->plans.trial_days == 0 : !plan_of(w, days)))
                return false;
        *ret_days = days;
        return true;
}

static void ask_name(Work *w, int64_t days) {
        json_object_object_add(w->state, "await", json_object_new_string("name"));
        json_object_object_add(w->state, "days", json_object_new_int64(days));
        w->state_changed = true;
        (void) work_edit_text(w, T(w->lang, "Step 1 of 3. What is your business called? Your bot greets customers with "
                                            "this name (up to 100 characters)."),
                              cancel_keyboard(w->lang));
}

static void ask_time_zone(Work *w) {
        json_object *rows = json_object_new_array();
        char data[16];

        for (size_t i = 0; i < ELEMENTSOF(zones); i += 2) {
                json_object *a, *b = NULL;
                snprintf(data, sizeof data, "tz:%zu", i);
                a = button(T(w->lang, zones[i].label), data);
                if (i + 1 < ELEMENTSOF(zones)) {
                        snprintf(data, sizeof data, "tz:%zu", i + 1);
                        b = button(T(w->lang, zones[i + 1].label), data);
                }
                json_object_array_add(rows, row(a, b));
        }
        json_object_array_add(rows, row(button(T(w->lang, "✖️ Cancel"), "cancel"), NULL));
        (void) work_send_text(w, T(w->lang, "Step 2 of 3. Your business's time zone: choose it, or type its name (such "
                                            "as Europe/Berlin)."),
                              inline_keyboard(rows));
}

static void ask_token(Work *w) {
        (void) work_send_text(w, T(w->lang, "Step 3 of 3. Create your bot: in @BotFather send /newbot, choose its name "
                                            "and username, and send me the token it gives you (it looks like "
                                            "123456789:AAE…). I delete your message with it at once."),
                              cancel_keyboard(w->lang));
}

/* The choice between a one-off payment and one that renews itself, for @client's plan @days. */
static json_object *pay_keyboard(Work *w, int64_t client, int64_t days) {
        json_object *rows = json_object_new_array();
        char data[64];

        snprintf(data, sizeof data, "pay:%" PRId64 ":%" PRId64 ":0", client, days);
        json_object_array_add(rows, row(button(T(w->lang, "💳 Pay"), data), NULL));
        snprintf(data, sizeof data, "pay:%" PRId64 ":%" PRId64 ":1", client, days);
        json_object_array_add(rows, row(button(T(w->lang, "💳 Pay and renew automatically"), data), NULL));
        json_object_array_add(rows, row(button(T(w->lang, "✖️ Cancel"), "cancel"), NULL));
        return inline_keyboard(rows);
}

/* 🎁 Start the free trial of @client. */
static json_object *trial_keyboard(Work *w, int64_t client) {
        json_object *rows = json_object_new_array();
        char data[32];

        snprintf(data, sizeof data, "tr:%" PRId64, client);
        json_object_array_add(rows, row(button(T(w->lang, "🎁 Start the free trial"), data), NULL));
        json_object_array_add(rows, row(button(T(w->lang, "✖️ Cancel"), "cancel"), NULL));
        return inline_keyboard(rows);
}

/* --- a new business ------------------------------------------------------------------------------ */

/* Whether @zone is an IANA time zone name this system knows (its file under /usr/share/zoneinfo
 * begins with "TZif"); deployd checks it again against PostgreSQL. */
static bool time_zone_known(const char *zone) {
        char path[128], magic[4];
        size_t n = strlen(zone);
        FILE *f;
        bool ok;

        if (n == 0 || n > TIME_ZONE_MAX || zone[0] == '/' || strstr(zone, "..") ||
            strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != n)
                return false;
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
        f = fopen(path, "re");
        if (!f)
                return false;
        ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
        fclose(f);
        return ok;
}

static void got_name(Work *w) {
        char name[TENANT_NAME_MAX_BYTES + 1];

        if (tenant_name_clean(w->text, name, sizeof name) < 0) {
                (void) work_send_text(w, T(w->lang, "The name must have 1 to 100 characters. Send it again, or /cancel."), NULL);
                return;
        }
        json_object_object_add(w->state, "await", json_object_new_string("tz"));
        json_object_object_add(w->state, "name", json_object_new_string(name));
        w->state_changed = true;
        ask_time_zone(w);
}

static void got_time_zone(Work *w, const char *zone) {
        if (!time_zone_known(zone)) {
                (void) work_send_text(w, T(w->lang, "I do not know this time zone. Choose one of the buttons, or type a "
                                                    "name such as Europe/Moscow or Asia/Almaty."),
                                      NULL);
                return;
        }
        json_object_object_add(w->state, "await", json_object_new_string("token"));
        json_object_object_add(w->state, "tz", json_object_new_string(zone));
        w->state_changed = true;
        ask_token(w);
}

static void on_client_added(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        const char *username = NULL, *name = strempty(json_get_string(w->state, "name"));
        char text[1536], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[128], plan[160];
        const SalesPlan *p;
        int64_t client = 0, days = 0;

        if (e && sd_bus_error_has_name(e, DEPLOY_ERROR_INVALID_TOKEN))
                (void) work_send_text(w, T(w->lang, "Telegram does not accept this token (mistyped, or revoked in "
                                                    "@BotFather?). Send the token again, or /cancel."),
                                      NULL);
        else if (e && sd_bus_error_has_name(e, DEPLOY_ERROR_BOT_TAKEN))
                (void) work_send_text(w, T(w->lang, "This bot is already connected to our platform. Create a new bot in "
                                                    "@BotFather and send its token, or /cancel."),
                                      NULL);
        else if (e && sd_bus_error_has_name(e, DEPLOY_ERROR_INVALID)) {
                clear_await(w);
                (void) work_send_text(w, T(w->lang, "Something in what you entered was refused. Please start again."),
                                      sales_menu(w->lang));
        } else if (e || !reply || sd_bus_message_read(reply, "xs", &client, &username) < 0)
                (void) work_send_text(w, T(w->lang, "I cannot set up bots right now. Send the token again in a minute, "
                                                    "or /cancel."),
                                      NULL);
        else if ((void) json_get_int64(w->state, "days", &days), days == 0) {
                snprintf(text, sizeof text,
                         T(w->lang, "✅ Bot @%s checked.\n\n<b>Your order</b>\nBusiness: <b>%s</b>\nTime zone: %s\n"
                                    "Plan: %s\n\nStart the trial, and your bot is set up at once, free, no card "
                                    "needed. Before it ends I remind you to choose a plan."),
                         html_escape(username, u, sizeof u), html_escape(name, n, sizeof n),
                         strempty(json_get_string(w->state, "tz")), trial_text(w, plan, sizeof plan));
                clear_await(w);
                (void) work_send_text(w, text, trial_keyboard(w, client));
        } else {
                p = plan_of(w, days);
                snprintf(text, sizeof text,
                         T(w->lang, "✅ Bot @%s checked.\n\n<b>Your order</b>\nBusiness: <b>%s</b>\nTime zone: %s\n"
                                    "Plan: %s\n\nPay to start your bot. With automatic renewal, YooKassa keeps your "
                                    "card and the next period is charged before this one ends; you can turn it off "
                                    "in My bots."),
                         html_escape(username, u, sizeof u), html_escape(name, n, sizeof n),
                         strempty(json_get_string(w->state, "tz")), p ? plan_text(w, p, true, plan, sizeof plan) : "?");
                clear_await(w);
                (void) work_send_text(w, text, pay_keyboard(w, client, p ? p->days : 0));
        }
        work_commit(w);
}

/* Deletes the message being handled (one holding a token) from the chat. */
static void delete_message(Work *w) {
        json_object *p = json_object_new_object();

        json_object_object_add(p, "message_id", json_object_new_int64(w->message_id));
        (void) work_call(w, "deleteMessage", p);
}

static void got_token(Work *w) {
        char actor[48];

        delete_message(w);   /* the token leaves the chat at once, whatever it is */
        if (!bot_token_valid(w->text)) {
                (void) work_send_text(w, T(w->lang, "That is not a bot token (they look like 123456789:AAE…). Send the "
                                                    "token again, or /cancel."),
                                      NULL);
                return work_commit(w);
        }
        snprintf(actor, sizeof actor, "sales:%" PRId64, w->user);
        work_bus_call(w, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, "AddClient", on_client_added, "sxsss", w->text, w->user,
                      strempty(json_get_string(w->state, "name")), strempty(json_get_string(w->state, "tz")), actor);
}

/* --- My bots ----------------------------------------------------------------------------------- */

static void on_clients(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        json_object *rows = json_object_new_array();
        char text[3072], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[128], until[64], data[32], label[160];
        const char *name, *username, *status;
        int64_t id, paid_until;
        int renews, r;
        unsigned count = 0;

        if (e || !reply || sd_bus_message_enter_container(reply, 'a', SUBSCRIPTION_CLIENT_SIGNATURE) < 0) {
                json_object_put(rows);
                unavailable(w);
                return work_commit(w);
        }
        snprintf(text, sizeof text, "%s", T(w->lang, "<b>My bots</b>"));
        while ((r = sd_bus_message_read(reply, SUBSCRIPTION_CLIENT_SIGNATURE, &id, &name, &username, &status,
                                        &paid_until, &renews)) > 0) {
                count++;
                text_appendf(text, sizeof text, "\n\n🤖 <b>%s</b> @%s\n%s", html_escape(name, n, sizeof n),
                             html_escape(username, u, sizeof u), status_text(w->lang, status));
                if (paid_until > 0)
                        text_appendf(text, sizeof text, T(w->lang, "\nPaid until %s"),
                                     format_time(w->lang, paid_until, until, sizeof until));
                if (renews)
                        text_appendf(text, sizeof text, "%s", T(w->lang, "\n🔁 Renews automatically"));
                snprintf(data, sizeof data, "ex:%" PRId64, id);
                snprintf(label, sizeof label, streq(status, "pending") ? T(w->lang, "💳 Pay for @%s") : T(w->lang, "🔁 Extend @%s"),
                         username);
                json_object_array_add(rows, row(button(label, data), NULL));
                if (renews) {
                        snprintf(data, sizeof data, "ar0:%" PRId64, id);
                        snprintf(label, sizeof label, T(w->lang, "⏹ Stop auto-renewal of @%s"), username);
                        json_object_array_add(rows, row(button(label, data), NULL));
                }
        }
        if (count == 0) {
                snprintf(text, sizeof text, "%s", T(w->lang, "You have no bots yet."));
                json_object_array_add(rows, row(button(T(w->lang, menu_labels[MENU_NEW]), "new"), NULL));
        }
        if (w->callback_id)
                (void) work_edit_text(w, text, inline_keyboard(rows));
        else
                (void) work_send_text(w, text, inline_keyboard(rows));
        work_commit(w);
}

static void show_my_bots(Work *w) {
        clear_await(w);
        payments_call(w, "ListSubscriptionClients", on_clients, "x", w->user);
}

static void on_auto_renewal_stopped(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        int stopped;

        if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_NO_SUCH_CLIENT))
                stale(w);
        else if (e || !reply || sd_bus_message_read(reply, "b", &stopped) < 0)
                unavailable(w);
        else {
                (void) work_answer(w, stopped ? T(w->lang, "Automatic renewal is off: nothing more is charged. Renew by "
                                                           "hand before the paid time ends.")
                                              : T(w->lang, "Automatic renewal was already off."),
                                   true);
                return show_my_bots(w);   /* the list, without it */
        }
        work_commit(w);
}

/* --- payments ------------------------------------------------------------------------------------ */

typedef struct Subscription {
        const char *id;
        int64_t client, owner, amount;
        uint32_t days;
        const char *currency, *status, *url;
} Subscription;

/* Reads the subscription payment a call returned; on a failure tells the owner, commits, and
 * returns false. */
static bool reply_subscription(Work *w, sd_bus_message *reply, const sd_bus_error *e, Subscription *s) {
        if (e && (sd_bus_error_has_name(e, PAYMENTS_ERROR_NO_SUCH_CLIENT) ||
                  sd_bus_error_has_name(e, PAYMENTS_ERROR_NO_SUCH_ORDER) ||
                  sd_bus_error_has_name(e, PAYMENTS_ERROR_NO_SUCH_PLAN)))
                stale(w);
        else if (e || !reply ||
                 sd_bus_message_read(reply, SUBSCRIPTION_SIGNATURE, &s->id, &s->client, &s->owner, &s->days, &s->amount,
                                     &s->currency, &s->status, &s->url) < 0)
                unavailable(w);
        else
                return true;
        work_commit(w);
        return false;
}

/* The payment as the owner sees it, with Pay and Check payment while it is open. */
static void show_payment(Work *w, const Subscription *s) {
        json_object *rows = json_object_new_array();
        char text[1024], price[48], data[64];

        format_money(w->lang, s->amount, s->currency, price, sizeof price);
        if (streq(s->status, "succeeded"))
                snprintf(text, sizeof text, T(w->lang, "✅ Paid: %s for %" PRIu32 " days."), price, s->days);
        else if (streq(s->status, "canceled"))
                snprintf(text, sizeof text, T(w->lang, "❌ This payment of %s did not go through."), price);
        else {
                snprintf(text, sizeof text,
                         T(w->lang, "Payment <code>%s</code>: <b>%s</b> for %" PRIu32 " days.\nTap Pay to pay with "
                                    "YooKassa. As soon as the payment goes through, I tell you here."),
                         s->id, price, s->days);
                if (!isempty(s->url))
                        json_object_array_add(rows, row(url_button(T(w->lang, "💳 Pay"), s->url), NULL));
                snprintf(data, sizeof data, "ck:%s", s->id);
                json_object_array_add(rows, row(button(T(w->lang, "🔄 Check payment"), data), NULL));
        }
        (void) work_edit_text(w, text, json_object_array_length(rows) ? inline_keyboard(rows) : (json_object_put(rows), NULL));
}

static void on_opened(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        Subscription s;

        if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_CONTACT_NEEDED) && w->callback_data) {
                /* Asked once: the payment opens when it comes ("pay" keeps what was pressed). */
                json_object_object_add(w->state, "await", json_object_new_string("contact"));
                json_object_object_add(w->state, "pay", json_object_new_string(w->callback_data + strlen("pay:")));
                w->state_changed = true;
                (void) work_send_text(w, T(w->lang, "For the receipt the law requires (54-FZ): send the e-mail or the phone "
                                                    "number it should go to. I ask only once."),
                                      cancel_keyboard(w->lang));
                return work_commit(w);
        }
        if (!reply_subscription(w, reply, e, &s))
                return;
        show_payment(w, &s);
        work_commit(w);
}

static void on_checked(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        Subscription s;

        if (!reply_subscription(w, reply, e, &s))
                return;
        if (streq(s.status, "pending") || streq(s.status, "new"))
                (void) work_answer(w, T(w->lang, "Not paid yet. A payment just made can take a minute to arrive; I tell "
                                                 "you here when it does."),
                                   true);
        else
                show_payment(w, &s);
        work_commit(w);
}

/* "pay:CLIENT:DAYS:AUTO". */
static void open_payment(Work *w, const char *arg) {
        int64_t client, days;
        int renew, n = 0;

        if (sscanf(arg, "%" SCNd64 ":%" SCNd64 ":%d%n", &client, &days, &renew, &n) != 3 || arg[n] || client <= 0 ||
            !plan_of(w, days) || (renew != 0 && renew != 1)) {
                stale(w);
                return work_commit(w);
        }
        payments_call(w, "OpenSubscriptionPayment", on_opened, "xxub", client, w->user, (uint32_t) days, renew);
}

static void on_trial_started(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        Subscription s;
        char text[512], prefix[32];

        if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_TRIAL_USED)) {
                /* The client stays, pending: a plan starts it. start_trial() checked "tr:CLIENT". */
                snprintf(prefix, sizeof prefix, "xp:%s:", w->callback_data + strlen("tr:"));
                (void) work_edit_text(w, T(w->lang, "You have had a free trial already: there is one per person and per "
                                                    "bot. Choose a plan to start your bot:"),
                                      plans_keyboard(w, prefix, false));
                return work_commit(w);
        }
        if (!reply_subscription(w, reply, e, &s))
                return;
        snprintf(text, sizeof text, TN(w->lang, "🎁 Your free trial of %" PRIu32 " day has begun.",
                                       "🎁 Your free trial of %" PRIu32 " days has begun.", s.days), s.days);
        (void) work_edit_text(w, text, NULL);
        work_commit(w);
}

/* "tr:CLIENT". */
static void start_trial(Work *w, const char *arg) {
        char *end;
        int64_t client = strtoll(arg, &end, 10);

        if (end == arg || *end || client <= 0 || w->b->plans.trial_days == 0) {
                stale(w);
                return work_commit(w);
        }
        payments_call(w, "StartTrial", on_trial_started, "xx", client, w->user);
}

static void open_payment(Work *w, const char *arg);

static void on_contact_set(Work *w, sd_bus_message *reply, const sd_bus_error *e) {
        char pay[64];

        if (e && sd_bus_error_has_name(e, PAYMENTS_ERROR_INVALID_CONTACT)) {
                (void) work_send_text(w, T(w->lang, "That is neither an e-mail nor a phone number (such as anna@example.ru "
                                                    "or +7 900 123-45-67). Send it again, or /cancel."),
                                      NULL);
                return work_commit(w);
        }
        if (e || !reply) {
                unavailable(w);
                return work_commit(w);
        }
        snprintf(pay, sizeof pay, "%s", strempty(json_get_string(w->state, "pay")));
        clear_await(w);
        (void) work_send_text(w, T(w->lang, "Thank you: your receipts go there."), NULL);
        open_payment(w, pay);
}

/* The contact for receipts, typed after a Pay that needed one. */
static void got_contact(Work *w) {
        payments_call(w, "SetReceiptContact", on_contact_set, "xs", w->user, w->text);
}

/* "xp:CLIENT:DAYS": the pay choice for an extension. */
static void extend_plan(Work *w, const char *arg) {
        char text[512], plan[160];
        int64_t client, days;
        int n = 0;
        const SalesPlan *p;

        if (sscanf(arg, "%" SCNd64 ":%" SCNd64 "%n", &client, &days, &n) != 2 || arg[n] || client <= 0 ||
            !(p = plan_of(w, days))) {
                stale(w);
                return;
        }
        snprintf(text, sizeof text, T(w->lang, "Plan: %s\nThe days are added to what is left."),
                 plan_text(w, p, true, plan, sizeof plan));
        (void) work_edit_text(w, text, pay_keyboard(w, client, days));
}

/* --- dispatch ------------------------------------------------------------------------------------ */

static void handle_text(Work *w) {
        const char *t = w->text, *await = json_get_string(w->state, "await");

        if (!t) {
                (void) work_send_text(w, T(w->lang, "I understand text and the buttons below."), sales_menu(w->lang));
                return work_commit(w);
        }
        if (streq(t, "/start") || startswith(t, "/start ") || startswith(t, "/start@")) {
                clear_await(w);
                show_welcome(w);
                return work_commit(w);
        }
        if (startswith(t, "/cancel")) {
                clear_await(w);
                (void) work_send_text(w, T(w->lang, "Cancelled."), sales_menu(w->lang));
                return work_commit(w);
        }
        switch (menu_pick(t, menu_labels, _MENU_MAX)) {
        case MENU_NEW:
                show_plans(w);
                return work_commit(w);
        case MENU_MY:
                return show_my_bots(w);
        case MENU_FAQ:
                show_faq(w);
                return work_commit(w);
        }
        if (startswith(t, "/new")) {
                show_plans(w);
                return work_commit(w);
        }
        if (startswith(t, "/mybots"))
                return show_my_bots(w);
        if (startswith(t, "/help") || startswith(t, "/faq")) {
                show_faq(w);
                return work_commit(w);
        }
        if (streq_ptr(await, "token"))
                return got_token(w);
        if (streq_ptr(await, "contact"))
                return got_contact(w);
        if (streq_ptr(await, "name"))
                got_name(w);
        else if (streq_ptr(await, "tz"))
                got_time_zone(w, t + strspn(t, " "));
        else if (bot_token_valid(t)) {
                delete_message(w);   /* sent out of turn, it leaves the chat all the same */
                (void) work_send_text(w, T(w->lang, "That looks like a bot token: I deleted it from the chat. To connect "
                                                    "your bot, choose 🚀 New booking bot first; I ask for the token at "
                                                    "the end."),
                                      sales_menu(w->lang));
        } else
                (void) work_send_text(w, T(w->lang, "Choose what to do with the buttons below, or send /start."),
                                      sales_menu(w->lang));
        work_commit(w);
}

static void handle_button(Work *w) {
        const char *d = w->callback_data, *arg, *await = json_get_string(w->state, "await");
        int64_t n;

        if (streq(d, "menu") || streq(d, "cancel")) {
                clear_await(w);
                (void) work_edit_text(w, T(w->lang, "Cancelled. Choose what to do with the buttons below."), NULL);
        } else if (streq(d, "faq"))
                show_faq(w);
        else if (streq(d, "new"))
                show_plans(w);
        else if (streq(d, "my"))
                return show_my_bots(w);
        else if ((arg = startswith(d, "np:")) && new_plan(w, arg, &n))
                ask_name(w, n);
        else if ((arg = startswith(d, "tz:")) && streq_ptr(await, "tz") && (n = strtoll(arg, NULL, 10)) >= 0 &&
                 (size_t) n < ELEMENTSOF(zones) && strspn(arg, "0123456789") == strlen(arg))
                got_time_zone(w, zones[n].zone);
        else if ((arg = startswith(d, "ex:")) && strtoll(arg, NULL, 10) > 0) {
                char prefix[32];
                snprintf(prefix, sizeof prefix, "xp:%" PRId64 ":", (int64_t) strtoll(arg, NULL, 10));
                clear_await(w);
                (void) work_edit_text(w, T(w->lang, "Choose a plan:"), plans_keyboard(w, prefix, false));
        } else if ((arg = startswith(d, "xp:")))
                extend_plan(w, arg);
        else if ((arg = startswith(d, "pay:")))
                return open_payment(w, arg);
        else if ((arg = startswith(d, "tr:")))
                return start_trial(w, arg);
        else if ((arg = startswith(d, "ar0:")) && (n = strtoll(arg, NULL, 10)) > 0)
                return payments_call(w, "StopAutoRenewal", on_auto_renewal_stopped, "xx", n, w->user);
        else if ((arg = startswith(d, "ck:")) && strlen(arg) < 64)
                return payments_call(w, "CheckSubscriptionPayment", on_checked, "sx", arg, w->user);
        else
                stale(w);
        work_commit(w);
}

static void sales_handle_update(Work *w) {
        if (w->callback_id)
                handle_button(w);
        else
                handle_text(w);
}

/* --- events -------------------------------------------------------------------------------------- */

/* 🔁 Renew, straight to the plans of @client. */
static json_object *renew_keyboard(Work *w, int64_t client) {
        char data[32];

        if (client <= 0)
                return NULL;
        snprintf(data, sizeof data, "ex:%" PRId64, client);
        return inline_keyboard(row(row(button(T(w->lang, "🔁 Renew"), data), NULL), NULL));
}

/* When a client whose paid time ended at @until is removed, unpaid ([Subscriptions]). */
static const char *removal_date(Work *w, int64_t until, char *buf, size_t size) {
        const Config *c = &w->b->daemon.config;
        int64_t at = until + (int64_t) (c->subscriptions_grace_usec / USEC_PER_SEC) +
                     (int64_t) c->subscriptions_remove_after_days * 86400;

        return format_time(w->lang, at, buf, size);
}

static void sales_handle_event(Work *w) {
        const char *type = strempty(json_get_string(w->root, "type")), *username = json_get_string(w->root, "bot_username");
        const char *name = strempty(json_get_string(w->root, "name")), *support = w->b->daemon.config.sales_support;
        int64_t amount = strtoll(strempty(json_get_string(w->root, "amount_minor")), NULL, 10);
        int64_t until = strtoll(strempty(json_get_string(w->root, "paid_until")), NULL, 10);
        int64_t days = strtoll(strempty(json_get_string(w->root, "days")), NULL, 10);
        int64_t client = strtoll(strempty(json_get_string(w->root, "client")), NULL, 10);
        char text[1536], price[48], date[64], removal[64], n[TENANT_NAME_MAX_CHARS * 4 * 6], u[128], data[64], s[256];
        const char *currency = strempty(json_get_string(w->root, "currency"));
        json_object *keyboard = NULL;

        html_escape(name, n, sizeof n);
        html_escape(strempty(username), u, sizeof u);
        html_escape(strempty(support), s, sizeof s);
        format_money(w->lang, amount, currency, price, sizeof price);
        if (streq(type, "subscription.succeeded")) {
                if (streq_ptr(json_get_string(w->root, "client_status"), "removed"))
                        snprintf(text, sizeof text,
                                 T(w->lang, "✅ Your payment of %s arrived, but the bot «%s» had been removed meanwhile. "
                                            "Our team has been told and will contact you. Support: %s"),
                                 price, n, s);
                else if (streq_ptr(json_get_string(w->root, "deploy"), "resume"))
                        snprintf(text, sizeof text,
                                 T(w->lang, "✅ Payment received: %s. «%s» (@%s) is paid until %s and starting again; I "
                                            "tell you the moment it is back."),
                                 price, n, u, format_time(w->lang, until, date, sizeof date));
                else if (streq_ptr(json_get_string(w->root, "trial"), "true"))
                        snprintf(text, sizeof text,
                                 T(w->lang, "🎁 Free trial: «%s» (@%s) runs free until %s.\nYour bot is being set up; I "
                                            "tell you the moment it is live."),
                                 n, u, format_time(w->lang, until, date, sizeof date));
                else if (streq_ptr(json_get_string(w->root, "renewal"), "true"))
                        snprintf(text, sizeof text,
                                 T(w->lang, "🔁 «%s» (@%s) renewed automatically: %s charged to your saved card, paid "
                                            "until %s."),
                                 n, u, price, format_time(w->lang, until, date, sizeof date));
                else if (streq_ptr(json_get_string(w->root, "deploy"), "deploy"))
                        snprintf(text, sizeof text,
                                 T(w->lang, "✅ Payment received: %s.\nYour bot @%s is being set up; I tell you the "
                                            "moment it is live."),
                                 price, u);
                else
                        snprintf(text, sizeof text, T(w->lang, "✅ Payment received: %s. «%s» (@%s) is paid until %s."),
                                 price, n, u, format_time(w->lang, until, date, sizeof date));
        } else if (streq(type, "subscription.canceled") && streq_ptr(json_get_string(w->root, "renewal"), "true")) {
                const char *reason = json_get_string(w->root, "reason");
                snprintf(text, sizeof text,
                         T(w->lang, "⚠️ The automatic renewal of «%s» (@%s), %s, did not go through: %s.\nIt is paid until "
                                    "%s; renew it by hand so that your customers can go on booking."),
                         n, u, price, reason_text(w->lang, reason), format_time(w->lang, until, date, sizeof date));
                if (streq_ptr(reason, "permission_revoked") || streq_ptr(reason, "invalid_method") ||
                    streq_ptr(reason, "receipt_contact"))
                        text_appendf(text, sizeof text, "%s", T(w->lang, "\nAutomatic renewal is now off."));
                keyboard = renew_keyboard(w, client);
        } else if (streq(type, "subscription.canceled")) {
                snprintf(text, sizeof text, T(w->lang, "❌ The payment of %s for «%s» did not go through: %s.\nYou can try "
                                                       "again."),
                         price, n, reason_text(w->lang, json_get_string(w->root, "reason")));
                if (client > 0 && plan_of(w, days)) {
                        snprintf(data, sizeof data, "pay:%" PRId64 ":%" PRId64 ":0", client, days);
                        keyboard = inline_keyboard(row(row(button(T(w->lang, "💳 Try again"), data), NULL), NULL));
                }
        } else if (startswith(type, "subscription.") && streq_ptr(json_get_string(w->root, "stale"), "true"))
                return work_commit(w);   /* paid for since: nothing to say */
        else if (streq(type, "subscription.remind")) {
                int64_t hours = strtoll(strempty(json_get_string(w->root, "before_sec")), NULL, 10) / 3600;
                snprintf(text, sizeof text,
                         TN(w->lang, "⏰ «%s» (@%s) is paid until %s: %" PRId64 " hour left. Renew so that your customers "
                                     "can go on booking.",
                            "⏰ «%s» (@%s) is paid until %s: %" PRId64 " hours left. Renew so that your customers "
                            "can go on booking.", hours),
                         n, u, format_time(w->lang, until, date, sizeof date), hours);
                keyboard = renew_keyboard(w, client);
        } else if (streq(type, "subscription.expired")) {
                snprintf(text, sizeof text,
                         T(w->lang, "⏸ The paid time of «%s» (@%s) ended on %s, and the bot is stopped: customers "
                                    "cannot book. Renew to start it again at once; unpaid, it is removed on %s."),
                         n, u, format_time(w->lang, until, date, sizeof date), removal_date(w, until, removal, sizeof removal));
                keyboard = renew_keyboard(w, client);
        } else if (streq(type, "subscription.last_warning")) {
                snprintf(text, sizeof text,
                         T(w->lang, "⚠️ «%s» (@%s) is removed on %s, with all its settings, unless you renew it."),
                         n, u, removal_date(w, until, removal, sizeof removal));
                keyboard = renew_keyboard(w, client);
        } else if (streq(type, "subscription.removed"))
                snprintf(text, sizeof text,
                         T(w->lang, "🗑 «%s» (@%s) is removed: its paid time ended on %s. You can create a new booking bot "
                                    "at any time."),
                         n, u, format_time(w->lang, until, date, sizeof date));
        else if (streq(type, "subscription.refunded"))
                snprintf(text, sizeof text, T(w->lang, "↩️ Your payment of %s for «%s» was refunded."), price, n);
        else if (streq(type, "client.live") && username)
                snprintf(text, sizeof text,
                         T(w->lang, "🎉 Your booking bot @%s is live: https://t.me/%s\nOpen it and press Start to see what "
                                    "your customers see."),
                         u, u);
        else if (streq(type, "client.failed"))
                snprintf(text, sizeof text,
                         T(w->lang, "⚠️ Your bot @%s could not be started yet. Our team has been told and is on it; you do "
                                    "not need to do anything. Support: %s"),
                         u, s);
        else   /* subscription.pending: the owner is looking at the payment already */
                return work_commit(w);
        (void) work_send_text(w, text, keyboard);
        work_commit(w);
}

/* --- setup --------------------------------------------------------------------------------------- */

static int load(const Config *c, SalesPlans *ret) {
        int r = sales_plans_load(c, ret);

        if (r < 0)
                return log_error_errno(r, "Invalid [Sales] Plans= or Currency=.");
        return 0;
}

static int sales_setup(Botd *b) {
        return load(&b->daemon.config, &b->plans);
}

/* SIGHUP: the plans shown, as paymentd prices them after its own reload. */
static int sales_reload(Botd *b, const Config *next) {
        SalesPlans plans;
        int r = load(next, &plans);

        if (r < 0)
                return r;
        b->plans = plans;
        return 0;
}

const BotRole sales_role = {
        .name = "sales",
        .setup = sales_setup,
        .reload = sales_reload,
        .handle_update = sales_handle_update,
        .handle_event = sales_handle_event,
        .needs_bus = true,
        .erase_updates = true,   /* an update may hold a bot token */
};
