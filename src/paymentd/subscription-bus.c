/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-id128.h>

#include "bus.h"
#include "log-fields.h"
#include "money.h"
#include "payments-bus.h"
#include "receipt.h"
#include "sales-plans.h"

#define COLUMNS "s.id, s.tenant_id, s.owner_id, s.days, s.amount_minor, s.currency, s.status, " \
                "coalesce(s.confirmation_url, ''), t.name"
#define OPEN_SQL "SELECT " COLUMNS ", coalesce(c.kind, ''), coalesce(c.contact, '') " \
                 "FROM subscription_payment_open($1, $2, $3, $4, $5, $6, $7) s " \
                 "JOIN tenants t ON t.id = s.tenant_id LEFT JOIN subscription_customers c ON c.owner_id = s.owner_id"
#define CONTACT_SQL "SELECT subscription_customer_set($1, $2, $3)"
#define CREATED_SQL "SELECT " COLUMNS " FROM subscription_payment_created($1, $2, $3) s " \
                    "JOIN tenants t ON t.id = s.tenant_id"
#define GET_SQL "SELECT " COLUMNS ", coalesce(s.provider_id, '') FROM subscription_payments s " \
                "JOIN tenants t ON t.id = s.tenant_id WHERE s.id = $1 AND s.owner_id = $2"

#define CLIENTS_SQL "SELECT t.id, t.name, t.bot_username, t.status::text, " \
                    "coalesce(extract(epoch FROM t.paid_until)::bigint, 0), EXISTS (SELECT 1 FROM " \
                    "subscription_payments s WHERE s.tenant_id = t.id AND s.method_id IS NOT NULL) " \
                    "FROM tenants t WHERE t.owner_id = $1 AND t.status <> 'removed' ORDER BY t.id LIMIT " \
                    XSTRINGIFY(SUBSCRIPTION_CLIENTS_MAX)
#define FORGET_SQL "SELECT subscription_method_forget($1, $2, $3, 'owner')"
#define TRIAL_SQL "SELECT " COLUMNS " FROM subscription_trial_start($1, $2, $3, $4, $5) s " \
                  "JOIN tenants t ON t.id = s.tenant_id"
#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)

/* One call being answered, and the payment as the database last said. */
typedef struct Call {
        Paymentd *p;
        sd_bus_message *m;
        char id[32];
        char owner[24];
        bool auto_renew;
} Call;

static void call_free(Call *c) {
        sd_bus_message_unref(c->m);
        free(c);
}

/* A call of @owner's being answered. Returns NULL when out of memory. */
static Call *call_new(Paymentd *p, sd_bus_message *m, int64_t owner) {
        Call *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        *c = (Call) { .p = p, .m = sd_bus_message_ref(m) };
        snprintf(c->owner, sizeof c->owner, "%" PRId64, owner);
        return c;
}

/* Sends @sql for @c, which @cb then answers. Returns 1; with the database down, frees @c and
 * returns the error sd-bus answers with at once. */
static int call_query(Call *c, const char *sql, int n, const char *const *params, PgResultFn cb, sd_bus_error *error) {
        if (pg_query(c->p->daemon.pg, sql, n, params, cb, c) >= 0)
                return 1;
        call_free(c);
        return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
}

/* Reads the (x client, x owner) of @m. Returns 1, or a negative errno (with @error set for ids that
 * cannot be). */
static int read_client_owner(sd_bus_message *m, int64_t *client, int64_t *owner, sd_bus_error *error) {
        int r = sd_bus_message_read(m, "xx", client, owner);

        if (r < 0)
                return r;
        if (*client <= 0 || *owner <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid client or Telegram user id.");
        return 1;
}

/* A new payment id of ours, "sp-" and 20 random hex digits. Returns 0 or -errno. */
static int payment_id_new(char id[static 32]) {
        sd_id128_t rnd;
        int r = sd_id128_randomize(&rnd);

        if (r < 0)
                return r;
        snprintf(id, 32, "sp-%.20s", SD_ID128_TO_STRING(rnd));
        return 0;
}

static void reply_error(Call *c, const char *name, const char *message) {
        (void) sd_bus_reply_method_error(c->m, &SD_BUS_ERROR_MAKE_CONST(name, message));
        call_free(c);
}

static bool db_failed(Call *c, const PGresult *res) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (pg_result_to_errno(res) == 0)
                return false;
        if (streq_ptr(state, "P0002")) {
                reply_error(c, PAYMENTS_ERROR_NO_SUCH_CLIENT, "No such client of yours.");
                return true;
        }
        log_warning("Database query for %s failed: %s", sd_bus_message_get_member(c->m),
                    res ? PQresultErrorMessage(res) : "connection lost");
        c->p->stats.failures++;
        reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
        return true;
}

/* Answers with row 0 of @res (COLUMNS). */
static void reply_row(Call *c, const PGresult *res) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int64_t client = strtoll(PQgetvalue(res, 0, 1), NULL, 10), owner = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        int64_t amount = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        uint32_t days = (uint32_t) strtoul(PQgetvalue(res, 0, 3), NULL, 10);

        if (sd_bus_message_new_method_return(c->m, &reply) >= 0 &&
            sd_bus_message_append(reply, SUBSCRIPTION_SIGNATURE, PQgetvalue(res, 0, 0), client, owner, days, amount,
                                  PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7)) >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        call_free(c);
}

static void on_row(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (db_failed(c, res))
                return;
        if (PQntuples(res) != 1)
                return reply_error(c, PAYMENTS_ERROR_NO_SUCH_ORDER, "No such payment of yours.");
        reply_row(c, res);
}

/* --- OpenSubscriptionPayment ------------------------------------------------------------------- */

static void on_created(int error, const YooKassaPayment *yp, void *userdata) {
        Call *c = userdata;

        if (error < 0) {
                /* The payment stays 'new': the next tap asks again with the same key, and gets the
                 * payment this call may have made. */
                log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(c->id)),
                           "YooKassa did not make subscription payment %s: %m", c->id);
                return reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "Payments are temporarily unavailable.");
        }
        const char *params[] = { c->id, yp->id, yp->confirmation_url };
        if (pg_query(c->p->daemon.pg, CREATED_SQL, 3, params, on_row, c) < 0)
                reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
}

static void on_opened(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        const Config *cfg = &c->p->daemon.config;
        char amount[32], description[160];
        int r;

        if (db_failed(c, res))
                return;
        if (!streq(PQgetvalue(res, 0, 6), "new"))
                return reply_row(c, res);   /* the open one, already at YooKassa */
        snprintf(c->id, sizeof c->id, "%s", PQgetvalue(res, 0, 0));
        if (money_format(strtoll(PQgetvalue(res, 0, 4), NULL, 10), 2, amount, sizeof amount) < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "Unexpected amount.");
        snprintf(description, sizeof description, "%s: %s days", PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 3));
        YooKassaReceipt buf;
        bool missing;
        const YooKassaReceipt *receipt = subscription_receipt(c->p, PQgetvalue(res, 0, 9), PQgetvalue(res, 0, 10), &buf,
                                                              &missing);
        if (missing)
                return reply_error(c, PAYMENTS_ERROR_CONTACT_NEEDED, "A receipt needs your e-mail or phone number.");
        r = yookassa_create_payment(c->p->yookassa, &(YooKassaCreate) {
                .idempotence_key = c->id, .amount = amount, .currency = PQgetvalue(res, 0, 5),
                .description = description, .return_url = cfg->sales_return_url,
                .save_payment_method = c->auto_renew, .metadata_payment = c->id, .receipt = receipt,
        }, on_created, c);
        if (r < 0)
                reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "Payments are temporarily unavailable.");
}

int method_open_subscription_payment(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        char client_s[24], days_s[16], price_s[24], id[32];
        const SalesPlan *plan;
        int64_t client, owner;
        uint32_t days;
        int auto_renew, r;
        Call *c;

        r = sd_bus_message_read(m, "xxub", &client, &owner, &days, &auto_renew);
        if (r < 0)
                return r;
        if (client <= 0 || owner <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid client or Telegram user id.");
        if (!p->yookassa || isempty(p->daemon.config.sales_return_url) || !p->plans_loaded)
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE,
                                        "Subscriptions are not set up here ([YooKassa], [Sales] ReturnURL=, Plans=).");
        plan = sales_plan_find(&p->plans, days);
        if (!plan)
                return sd_bus_error_setf(error, PAYMENTS_ERROR_NO_SUCH_PLAN, "There is no plan of %" PRIu32 " days.", days);
        r = payment_id_new(id);
        if (r < 0)
                return r;
        snprintf(client_s, sizeof client_s, "%" PRId64, client);
        snprintf(days_s, sizeof days_s, "%" PRIu32, days);
        snprintf(price_s, sizeof price_s, "%" PRId64, plan->price_minor);
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        c->auto_renew = auto_renew;
        const char *params[] = { id, client_s, c->owner, days_s, price_s, p->plans.currency,
                                 auto_renew ? "true" : "false" };
        return call_query(c, OPEN_SQL, 7, params, on_opened, error);
}

/* --- CheckSubscriptionPayment ------------------------------------------------------------------ */

static void on_checked(int error, const char *status, bool changed, void *userdata) {
        Call *c = userdata;
        const char *params[] = { c->id, c->owner };

        if (error == -EAGAIN || (error < 0 && error != -ENOENT && error != -EBADMSG))
                return reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "Payments are temporarily unavailable.");
        if (pg_query(c->p->daemon.pg, GET_SQL, 2, params, on_row, c) < 0)
                reply_error(c, PAYMENTS_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
}

static void on_check_loaded(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        const char *provider_id;

        if (db_failed(c, res))
                return;
        if (PQntuples(res) != 1)
                return reply_error(c, PAYMENTS_ERROR_NO_SUCH_ORDER, "No such payment of yours.");
        provider_id = PQgetvalue(res, 0, 9);
        if (!streq(PQgetvalue(res, 0, 6), "pending") || isempty(provider_id) || !c->p->yookassa)
                return reply_row(c, res);   /* nothing to ask YooKassa */
        if (subscription_confirm(c->p, provider_id, "check", false, on_checked, c) < 0)
                reply_error(c, PAYMENTS_ERROR_FAILED, "Out of memory.");
}

int method_check_subscription_payment(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        const char *id;
        int64_t owner;
        Call *c;
        int r;

        r = sd_bus_message_read(m, "sx", &id, &owner);
        if (r < 0)
                return r;
        if (strlen(id) == 0 || strlen(id) >= sizeof c->id)
                return sd_bus_error_set(error, PAYMENTS_ERROR_NO_SUCH_ORDER, "No such payment of yours.");
        if (owner <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        strcpy(c->id, id);
        const char *params[] = { c->id, c->owner };
        return call_query(c, GET_SQL, 2, params, on_check_loaded, error);
}

/* --- ListSubscriptionClients ------------------------------------------------------------------- */

static void on_clients(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (db_failed(c, res))
                return;
        r = sd_bus_message_new_method_return(c->m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', SUBSCRIPTION_CLIENT_SIGNATURE);
        for (int i = 0; r >= 0 && i < PQntuples(res); i++)
                r = sd_bus_message_append(reply, SUBSCRIPTION_CLIENT_SIGNATURE, strtoll(PQgetvalue(res, i, 0), NULL, 10),
                                          PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                                          strtoll(PQgetvalue(res, i, 4), NULL, 10), PQgetvalue(res, i, 5)[0] == 't');
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return reply_error(c, PAYMENTS_ERROR_FAILED, "Cannot build the answer.");
        (void) sd_bus_send(NULL, reply, NULL);
        call_free(c);
}

int method_list_subscription_clients(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        int64_t owner;
        Call *c;
        int r;

        r = sd_bus_message_read(m, "x", &owner);
        if (r < 0)
                return r;
        if (owner <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        const char *params[] = { c->owner };
        return call_query(c, CLIENTS_SQL, 1, params, on_clients, error);
}

/* --- StopAutoRenewal --------------------------------------------------------------------------- */

static void on_forgotten(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (db_failed(c, res))
                return;
        (void) sd_bus_reply_method_return(c->m, "b", PQgetvalue(res, 0, 0)[0] == 't');
        call_free(c);
}

int method_stop_auto_renewal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        char client_s[24], actor[40];
        int64_t client, owner;
        Call *c;
        int r;

        r = read_client_owner(m, &client, &owner, error);
        if (r < 0)
                return r;
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        snprintf(client_s, sizeof client_s, "%" PRId64, client);
        snprintf(actor, sizeof actor, "owner:%" PRId64, owner);
        const char *params[] = { client_s, c->owner, actor };
        return call_query(c, FORGET_SQL, 3, params, on_forgotten, error);
}

/* --- StartTrial -------------------------------------------------------------------------------- */

static void on_trial(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (streq_ptr(state, "23505"))
                return reply_error(c, PAYMENTS_ERROR_TRIAL_USED, "This user or this bot has had its free trial.");
        if (streq_ptr(state, "55000"))
                return reply_error(c, PAYMENTS_ERROR_NO_SUCH_CLIENT, "The free trial is for a new client only.");
        if (db_failed(c, res))
                return;
        log_info("Free trial of client %s: payment %s.", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
        reply_row(c, res);
}

int method_start_trial(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        char client_s[24], days_s[24], id[32];
        int64_t client, owner;
        Call *c;
        int r;

        r = read_client_owner(m, &client, &owner, error);
        if (r < 0)
                return r;
        if (!p->plans_loaded || p->plans.trial_days == 0)
                return sd_bus_error_set(error, PAYMENTS_ERROR_UNAVAILABLE, "There is no free trial here ([Sales] TrialDays=).");
        r = payment_id_new(id);
        if (r < 0)
                return r;
        snprintf(client_s, sizeof client_s, "%" PRId64, client);
        snprintf(days_s, sizeof days_s, "%" PRId64, p->plans.trial_days);
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        const char *params[] = { id, client_s, c->owner, days_s, p->plans.currency };
        return call_query(c, TRIAL_SQL, 5, params, on_trial, error);
}

/* --- SetReceiptContact ------------------------------------------------------------------------- */

static void on_contact_set(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;

        if (db_failed(c, res))
                return;
        (void) sd_bus_reply_method_return(c->m, "");
        call_free(c);
}

int method_set_receipt_contact(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Paymentd *p = userdata;
        char contact[RECEIPT_CONTACT_MAX];
        const char *text;
        int64_t owner;
        Call *c;
        int kind, r;

        r = sd_bus_message_read(m, "xs", &owner, &text);
        if (r < 0)
                return r;
        if (owner <= 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid Telegram user id.");
        kind = receipt_contact_parse(text, contact);
        if (kind < 0)
                return sd_bus_error_set(error, PAYMENTS_ERROR_INVALID_CONTACT, "Neither an e-mail nor a phone number.");
        c = call_new(p, m, owner);
        if (!c)
                return -ENOMEM;
        const char *params[] = { c->owner, kind == RECEIPT_EMAIL ? "email" : "phone", contact };
        r = call_query(c, CONTACT_SQL, 3, params, on_contact_set, error);
        explicit_bzero(contact, sizeof contact);
        return r;
}
