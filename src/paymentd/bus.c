/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "bus.h"
#include "log-fields.h"
#include "money.h"
#include "orders.h"
#include "events.h"
#include "webhook-secret.h"

#define OPEN_SQL "SELECT " ORDER_COLUMNS " FROM order_open($1, $2, $3, $4, $5, $6, $7)"
#define STORE_SQL                                                                               \
        "UPDATE orders SET invoice_id = coalesce(invoice_id, $2), pay_url = coalesce(pay_url, $3), " \
        "expires_at = to_timestamp($4), updated_at = now() WHERE public_id = $1 RETURNING " ORDER_COLUMNS
#define GET_SQL "SELECT " ORDER_COLUMNS " FROM orders WHERE public_id = $1 AND user_id = $2"
#define CANCEL_SQL "SELECT " ORDER_COLUMNS " FROM order_cancel($1, $2)"
#define LIST_SQL                                                                                \
        "SELECT t.n, o.* FROM (SELECT count(*) AS n FROM orders WHERE user_id = $1 AND bot = $2) t " \
        "LEFT JOIN LATERAL (SELECT " ORDER_COLUMNS " FROM orders WHERE user_id = $1 AND bot = $2 "  \
        "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4) o ON true"
#define BALANCE_SQL                                                                             \
        "SELECT coalesce((SELECT balance FROM ledger_accounts WHERE kind = 'user' AND user_id = $1), 0)"

#define LIST_LIMIT_MAX 50
#define HELEKET_LIFETIME_MIN 300
#define HELEKET_LIFETIME_MAX 43200

/* One method call being answered. */
typedef struct Call {
        Paymentd *p;
        sd_bus_message *m;
        Order order;
        char user[24];      /* the caller's user, for calls about one order */
} Call;

static Call *call_new(Paymentd *p, sd_bus_message *m) {
        Call *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        c->p = p;
        c->m = sd_bus_message_ref(m);
        return c;
}

static void call_free(Call *c) {
        sd_bus_message_unref(c->m);
        free(c);
}

static void reply_error(Call *c, const char *name, const char *format, const char *arg) {
        (void) sd_bus_reply_method_errorf(c->m, name, format, arg);
        call_free(c);
}

static void reply_order(Call *c, const Order *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (sd_bus_message_new_method_return(c->m, &reply) >= 0 && payments_order_append(reply, o) >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        call_free(c);
}

static bool db_failed(Call *c, const PGresult *res) {
        if (pg_result_to_errno(res) == 0)
                return false;
        log_warning("Database query for %s failed: %s", sd_bus_message_get_member(c->m),
                    res ? PQresultErrorMessage(res) : "connection lost");
        c->p->stats.failures++;
        reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "The database is unavailable; try again shortly.");
        return true;
}

static void reply_order_row(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        Order o;

        if (db_failed(c, res))
                return;
        if (PQntuples(res) == 0)
                return reply_error(c, PAYMENTS_ERROR_NO_SUCH_ORDER, "No order %s.", c->order.public_id);
        if (order_from_row(res, 0, 0, &o) < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "Unexpected order row.");
        reply_order(c, &o);
}

/* --- CreateInvoice ------------------------------------------------------------------------------ */

static void on_invoice(int error, const HeleketInvoice *inv, void *userdata) {
        Call *c = userdata;
        char expires[24];
        const char *params[] = { c->order.public_id, inv ? inv->uuid : NULL, inv ? inv->url : NULL, expires };

        if (error < 0) {
                log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_ORDER(c->order.public_id)),
                           "Heleket did not create the invoice of order %s: %m", c->order.public_id);
                c->p->stats.failures++;
                if (error == -EINVAL || error == -EPERM)
                        return reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "The payment provider refused the invoice.");
                return reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "Payments are temporarily unavailable.");
        }
        c->p->stats.invoices++;
        log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_INVOICE_CREATED), LOG_ORDER(c->order.public_id),
                                           LOG_PAYMENT(inv->uuid)),
                   "Invoice %s created for order %s: %" PRId64 " Stars.", inv->uuid, c->order.public_id,
                   c->order.stars);
        snprintf(expires, sizeof expires, "%" PRId64, inv->expired_at > 0 ? inv->expired_at : c->order.expires_at);
        if (pg_query(c->p->daemon.pg, STORE_SQL, 4, params, reply_order_row, c) < 0)
                reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "The database is unavailable; try again shortly.");
}

static void on_opened(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        Paymentd *p = c->p;
        char amount[32];
        int64_t lifetime;
        HeleketCreate req;
        int r;

        if (db_failed(c, res))
                return;
        if (PQntuples(res) != 1 || order_from_row(res, 0, 0, &c->order) < 0)
                return reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "The order could not be opened; try again.");
        if (order_has_invoice(&c->order))
                return reply_order(c, &c->order);

        /* New, or an earlier attempt never got its invoice: order_id makes this safe to repeat. */
        lifetime = c->order.expires_at - (int64_t) time(NULL);
        lifetime = MIN(MAX(lifetime, (int64_t) HELEKET_LIFETIME_MIN), (int64_t) HELEKET_LIFETIME_MAX);
        if (money_format(c->order.price_minor, 2, amount, sizeof amount) < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "Bad price.");
        req = (HeleketCreate) {
                .order_id = c->order.public_id,
                .amount = amount,
                .currency = c->order.currency,
                .url_callback = isempty(p->daemon.config.shop_callback_url) ? NULL : p->daemon.config.shop_callback_url,
                .lifetime_sec = (unsigned) lifetime,
        };
        r = heleket_create_invoice(p->heleket, &req, on_invoice, c);
        if (r < 0)
                reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "The invoice could not be requested.");
}


static int method_create_invoice(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        const char *bot;
        int64_t user, stars, price;
        char user_s[24], stars_s[24], price_s[24], lifetime_s[24], public_id[40];
        sd_id128_t id;
        Call *c;
        int r;

        r = sd_bus_message_read(m, "sxx", &bot, &user, &stars);
        if (r < 0)
                return r;
        if (!bot_name_valid(bot, strlen(bot)))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid bot name.");
        if (user <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        if (shop_price(&p->catalog, stars, &price) < 0)
                return sd_bus_error_setf(error, PAYMENTS_ERROR_INVALID_AMOUNT,
                                         "%" PRId64 " Stars is neither a package nor within %" PRId64 "…%" PRId64 ".",
                                         stars, p->catalog.custom_min, p->catalog.custom_max);
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        /* Heleket's order_id: alpha_dash, unique, and unguessable enough not to leak volumes. */
        snprintf(public_id, sizeof public_id, "st-%.20s", SD_ID128_TO_STRING(id));
        snprintf(user_s, sizeof user_s, "%" PRId64, user);
        snprintf(stars_s, sizeof stars_s, "%" PRId64, stars);
        snprintf(price_s, sizeof price_s, "%" PRId64, price);
        snprintf(lifetime_s, sizeof lifetime_s, "%" PRIu64, p->daemon.config.shop_invoice_lifetime_usec / USEC_PER_SEC);
        c = call_new(p, m);
        if (!c)
                return -ENOMEM;
        const char *params[] = { public_id, user_s, bot, stars_s, price_s, p->catalog.currency, lifetime_s };
        r = pg_query(p->daemon.pg, OPEN_SQL, 7, params, on_opened, c);
        if (r < 0) {
                call_free(c);
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
        }
        return 1;
}

/* --- GetOrder, CheckOrder, CancelOrder ----------------------------------------------------------- */

/* Runs @sql (order, user) for @c; @cb gets the row. */
static int query_order(Call *c, const char *sql, PgResultFn cb) {
        const char *params[] = { c->order.public_id, c->user };
        return pg_query(c->p->daemon.pg, sql, 2, params, cb, c);
}

static int get_order(Call *c) {
        return query_order(c, GET_SQL, reply_order_row);
}

/* Reads the arguments (s order, x user) of a call about one order of one user: another user's
 * order is "no such order", never looked up further. */
static int read_order_id(sd_bus_message *m, Paymentd *p, Call **ret, sd_bus_error *error) {
        const char *id;
        int64_t user;
        Call *c;
        int r;

        r = sd_bus_message_read(m, "sx", &id, &user);
        if (r < 0)
                return r;
        if (strlen(id) == 0 || strlen(id) >= sizeof c->order.public_id)
                return sd_bus_error_setf(error, PAYMENTS_ERROR_NO_SUCH_ORDER, "No order %s.", id);
        if (user <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        c = call_new(p, m);
        if (!c)
                return -ENOMEM;
        strcpy(c->order.public_id, id);
        snprintf(c->user, sizeof c->user, "%" PRId64, user);
        *ret = c;
        return 0;
}

/* A call about one order of one user (s order, x user): @sql (order, user) runs, @cb answers. */
static int order_call(sd_bus_message *m, Paymentd *p, const char *sql, PgResultFn cb, sd_bus_error *error) {
        Call *c = NULL;
        int r = read_order_id(m, p, &c, error);

        if (r < 0)
                return r;
        if (query_order(c, sql, cb) < 0) {
                call_free(c);
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable.");
        }
        return 1;
}

static int method_get_order(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return order_call(m, userdata, GET_SQL, reply_order_row, error);
}

static void on_checked(int error, const char *status, bool changed, void *userdata) {
        Call *c = userdata;

        if (error == -EAGAIN || (error < 0 && error != -ENOENT))
                return reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "Payments are temporarily unavailable.");
        if (get_order(c) < 0)
                reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "%s", "The database is unavailable.");
}

static void on_check_loaded(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (db_failed(c, res))
                return;
        if (PQntuples(res) == 0)
                return reply_error(c, PAYMENTS_ERROR_NO_SUCH_ORDER, "No order %s.", c->order.public_id);
        if (order_from_row(res, 0, 0, &c->order) < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "Unexpected order row.");
        if (!order_status_is_open(c->order.status))
                return reply_order(c, &c->order);   /* final: nothing to ask */
        if (payment_confirm(c->p, NULL, c->order.public_id, "check", c->order.expires_at <= (int64_t) time(NULL),
                            on_checked, c) < 0)
                reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "Out of memory.");
}

static int method_check_order(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return order_call(m, userdata, GET_SQL, on_check_loaded, error);
}

static void on_cancelled(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (pg_result_to_errno(res) == 0 && PQntuples(res) == 1 && streq(PQgetvalue(res, 0, 6), "cancelled")) {
                log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_ORDER_STATUS), LOG_ORDER(c->order.public_id)),
                           "Order %s is now cancelled (user).", c->order.public_id);
                outbox_kick(c->p->outbox);   /* its order.cancelled event */
        }
        reply_order_row(pg, res, c);
}

static int method_cancel_order(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return order_call(m, userdata, CANCEL_SQL, on_cancelled, error);
}

/* --- ListOrders, GetBalance -------------------------------------------------------------------- */

static void on_list(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t total;
        Order o;
        int r;

        if (db_failed(c, res))
                return;
        total = PQntuples(res) > 0 ? (uint32_t) strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        r = sd_bus_message_new_method_return(c->m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', ORDER_SIGNATURE);
        for (int i = 0; r >= 0 && i < PQntuples(res); i++) {
                if (PQgetisnull(res, i, 1))
                        continue;   /* the page is past the end */
                r = order_from_row(res, i, 1, &o);
                if (r >= 0)
                        r = payments_order_append(reply, &o);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", total);
        if (r < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "%s", "Could not list orders.");
        (void) sd_bus_send(NULL, reply, NULL);
        call_free(c);
}

static int method_list_orders(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        const char *bot;
        int64_t user;
        uint32_t offset, limit;
        char user_s[24], limit_s[16], offset_s[16];
        Call *c;
        int r;

        r = sd_bus_message_read(m, "sxuu", &bot, &user, &offset, &limit);
        if (r < 0)
                return r;
        if (!bot_name_valid(bot, strlen(bot)) || user <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid bot name or user id.");
        snprintf(user_s, sizeof user_s, "%" PRId64, user);
        snprintf(limit_s, sizeof limit_s, "%u", MIN(MAX(limit, 1u), (uint32_t) LIST_LIMIT_MAX));
        snprintf(offset_s, sizeof offset_s, "%u", offset);
        c = call_new(p, m);
        if (!c)
                return -ENOMEM;
        const char *params[] = { user_s, bot, limit_s, offset_s };
        if (pg_query(p->daemon.pg, LIST_SQL, 4, params, on_list, c) < 0) {
                call_free(c);
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable.");
        }
        return 1;
}

static void on_balance(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (db_failed(c, res))
                return;
        (void) sd_bus_reply_method_return(c->m, "x", (int64_t) strtoll(PQgetvalue(res, 0, 0), NULL, 10));
        call_free(c);
}

static int method_get_balance(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        int64_t user;
        char user_s[24];
        Call *c;
        int r;

        r = sd_bus_message_read(m, "x", &user);
        if (r < 0)
                return r;
        if (user <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        snprintf(user_s, sizeof user_s, "%" PRId64, user);
        c = call_new(p, m);
        if (!c)
                return -ENOMEM;
        const char *params[] = { user_s };
        if (pg_query(p->daemon.pg, BALANCE_SQL, 1, params, on_balance, c) < 0) {
                call_free(c);
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable.");
        }
        return 1;
}

static int property_heleket_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        return sd_bus_message_append(reply, "s", breaker_state_to_string(heleket_client_breaker(p->heleket)));
}

static const sd_bus_vtable payments_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateInvoice", SD_BUS_ARGS("s", bot, "x", user, "x", stars),
                                SD_BUS_RESULT(ORDER_SIGNATURE, order), method_create_invoice,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOrder", SD_BUS_ARGS("s", order, "x", user), SD_BUS_RESULT(ORDER_SIGNATURE, order),
                                method_get_order, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckOrder", SD_BUS_ARGS("s", order, "x", user), SD_BUS_RESULT(ORDER_SIGNATURE, order),
                                method_check_order, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelOrder", SD_BUS_ARGS("s", order, "x", user),
                                SD_BUS_RESULT(ORDER_SIGNATURE, order), method_cancel_order,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListOrders", SD_BUS_ARGS("s", bot, "x", user, "u", offset, "u", limit),
                                SD_BUS_RESULT("a" ORDER_SIGNATURE, orders, "u", total), method_list_orders,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetBalance", SD_BUS_ARGS("x", user), SD_BUS_RESULT("x", stars),
                                method_get_balance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenSubscriptionPayment", SD_BUS_ARGS("x", client, "x", owner, "u", days, "b", auto_renew),
                                SD_BUS_RESULT(SUBSCRIPTION_SIGNATURE, subscription), method_open_subscription_payment,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckSubscriptionPayment", SD_BUS_ARGS("s", payment, "x", owner),
                                SD_BUS_RESULT(SUBSCRIPTION_SIGNATURE, subscription), method_check_subscription_payment,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSubscriptionClients", SD_BUS_ARGS("x", owner),
                                SD_BUS_RESULT("a" SUBSCRIPTION_CLIENT_SIGNATURE, clients), method_list_subscription_clients,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopAutoRenewal", SD_BUS_ARGS("x", client, "x", owner), SD_BUS_RESULT("b", stopped),
                                method_stop_auto_renewal, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetReceiptContact", SD_BUS_ARGS("x", owner, "s", contact), SD_BUS_NO_RESULT,
                                method_set_receipt_contact, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartTrial", SD_BUS_ARGS("x", client, "x", owner),
                                SD_BUS_RESULT(SUBSCRIPTION_SIGNATURE, subscription), method_start_trial,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("HeleketState", "s", property_heleket_state, 0, 0),
        SD_BUS_VTABLE_END,
};

int bus_setup(Paymentd *p) {
        return daemon_publish(&p->daemon, PAYMENTS_BUS_NAME, PAYMENTS_BUS_PATH, PAYMENTS_BUS_INTERFACE, payments_vtable, p);
}
