/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log-fields.h"
#include "money.h"
#include "notify.h"
#include "outbox.h"
#include "paymentd.h"

#define APPLY_SQL                                                                                       \
        "SELECT a.status, a.tenant_id, a.updated_at = now() FROM "                                     \
        "subscription_payment_apply($1, $2, $3, $4::bigint, $5, $6::boolean, $7::boolean, $8, $9, $10) a"

typedef struct Confirm {
        Paymentd *p;
        char source[16];
        char id[64];              /* YooKassa's payment id */
        char status[32];          /* what YooKassa says */
        char refund[48];          /* a refund's amount, when it is one that is confirmed */
        ConfirmFn cb;
        void *userdata;
} Confirm;

static void finish(Confirm *c, int error, const char *status, bool changed) {
        if (error < 0 && error != -ENOENT && error != -EBADMSG)
                c->p->stats.failures++;
        c->cb(error, status, changed, c->userdata);
        free(c);
}

static void on_applied(Pg *pg, const PGresult *res, void *userdata) {
        Confirm *c = userdata;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        bool changed;

        if (pg_result_to_errno(res) < 0 && (streq_ptr(state, "P0002") || streq_ptr(state, "22023"))) {
                /* Not ours, or not what was asked (an amount, a currency, a test payment): it moves
                 * nothing, and an operator has to look. */
                char text[512];
                log_struct(LOG_ERR, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_PAYMENT_REFUSED), LOG_PAYMENT(c->id)),
                           "YooKassa payment %s refused: %s", c->id, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
                /* Reconciliation meets the same payment again each pass: told once, by the first word. */
                if (!streq(c->source, "reconcile")) {
                        snprintf(text, sizeof text, "⚠️ YooKassa payment %s refused, nothing changed: %s", c->id,
                                 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
                        notify_operators(c->p->daemon.redis, &c->p->daemon.config, text);
                }
                return finish(c, streq(state, "P0002") ? -ENOENT : -EBADMSG, NULL, false);
        }
        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1) {
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_PAYMENT(c->id)), "Could not apply YooKassa payment %s (%s): %s",
                           c->id, c->status, res ? PQresultErrorMessage(res) : "connection lost");
                return finish(c, -EIO, NULL, false);
        }
        changed = PQgetvalue(res, 0, 2)[0] == 't';   /* updated by this very transaction */
        if (changed && c->refund[0])
                /* Money went back: recorded; days are taken back only by an operator. */
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_SUBSCRIPTION_PAYMENT), LOG_PAYMENT(c->id)),
                           "Subscription payment %s of client %s was refunded (%s); its days stay until an operator "
                           "takes them back.", c->id, PQgetvalue(res, 0, 1), c->refund);
        else if (changed) {
                c->p->stats.changes++;
                log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_SUBSCRIPTION_PAYMENT), LOG_PAYMENT(c->id)),
                           "Subscription payment %s of client %s is %s (%s).", c->id, PQgetvalue(res, 0, 1),
                           c->status, c->source);
        }
        if (changed)
                outbox_kick(c->p->subscription_outbox);   /* the owner and the operators hear of it */
        finish(c, 0, PQgetvalue(res, 0, 0), changed);
}

/* Applies @yp, YooKassa's own answer, as @c asks. */
static void apply(Confirm *c, const YooKassaPayment *yp) {
        char minor_text[24];
        int64_t minor;
        int r;

        /* Only a final status moves anything; pending and waiting_for_capture wait for the next word.
         * A refund of a succeeded payment makes it refunded. */
        if (c->refund[0] && !streq(yp->status, "succeeded"))
                return finish(c, 0, NULL, false);
        if (!c->refund[0] && !streq(yp->status, "succeeded") && !streq(yp->status, "canceled"))
                return finish(c, 0, NULL, false);
        if (money_parse(yp->amount, 2, &minor) < 0 || minor <= 0) {
                log_struct(LOG_ERR, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_PAYMENT_REFUSED), LOG_PAYMENT(c->id)),
                           "YooKassa payment %s has an amount that is no amount.", c->id);
                return finish(c, -EBADMSG, NULL, false);
        }
        snprintf(minor_text, sizeof minor_text, "%" PRId64, minor);
        snprintf(c->status, sizeof c->status, "%s", c->refund[0] ? "refunded" : yp->status);
        snprintf(c->id, sizeof c->id, "%s", yp->id);
        const char *params[] = { yp->id, yp->metadata_payment, c->status, minor_text, yp->currency,
                                 yp->test ? "true" : "false", c->p->daemon.config.yookassa_test_shop ? "false" : "true",
                                 yp->method_id, yp->cancel_reason, c->source };
        r = pg_query(c->p->daemon.pg, APPLY_SQL, 10, params, on_applied, c);
        if (r < 0)
                finish(c, r == -ENOTCONN ? -EIO : r, NULL, false);
}

static void on_fetched(int error, const YooKassaPayment *yp, void *userdata) {
        Confirm *c = userdata;

        if (error < 0) {
                if (error != -ENOENT)
                        log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(c->id)),
                                   "Could not confirm payment %s with YooKassa: %m", c->id);
                return finish(c, error, NULL, false);
        }
        apply(c, yp);
}

static void on_refund(int error, const YooKassaRefund *refund, void *userdata) {
        Confirm *c = userdata;
        int r;

        if (error < 0) {
                if (error != -ENOENT)
                        log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(c->id)),
                                   "Could not confirm refund %s with YooKassa: %m", c->id);
                return finish(c, error, NULL, false);
        }
        if (!streq(refund->status, "succeeded"))
                return finish(c, 0, NULL, false);
        snprintf(c->refund, sizeof c->refund, "%s %s", refund->amount, refund->currency);
        snprintf(c->id, sizeof c->id, "%s", refund->payment_id);
        r = yookassa_get_payment(c->p->yookassa, refund->payment_id, on_fetched, c);
        if (r < 0)
                finish(c, r, NULL, false);
}

static Confirm *confirm_new(Paymentd *p, const char *id, const char *source, ConfirmFn cb, void *userdata) {
        Confirm *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        *c = (Confirm) { .p = p, .cb = cb, .userdata = userdata };
        snprintf(c->source, sizeof c->source, "%s", source);
        snprintf(c->id, sizeof c->id, "%s", id);
        p->stats.events++;
        return c;
}

int subscription_apply(Paymentd *p, const YooKassaPayment *yp, const char *source, ConfirmFn cb, void *userdata) {
        Confirm *c = confirm_new(p, yp->id, source, cb, userdata);

        if (!c)
                return -ENOMEM;
        apply(c, yp);
        return 0;
}

int subscription_confirm(Paymentd *p, const char *id, const char *source, bool refund, ConfirmFn cb,
                         void *userdata) {
        Confirm *c;
        int r;

        if (!p->yookassa)
                return -EOPNOTSUPP;
        c = confirm_new(p, id, source, cb, userdata);
        if (!c)
                return -ENOMEM;
        r = refund ? yookassa_get_refund(p->yookassa, id, on_refund, c) : yookassa_get_payment(p->yookassa, id, on_fetched, c);
        if (r < 0)
                free(c);
        return r;
}

const YooKassaReceipt *subscription_receipt(const Paymentd *p, const char *kind, const char *contact, YooKassaReceipt *buf,
                                            bool *ret_missing) {
        const Config *c = &p->daemon.config;

        *ret_missing = false;
        if (!c->yookassa_receipt)
                return NULL;
        if (isempty(kind) || isempty(contact)) {
                *ret_missing = true;
                return NULL;
        }
        *buf = (YooKassaReceipt) {
                .email = streq(kind, "email") ? contact : NULL, .phone = streq(kind, "phone") ? contact : NULL,
                .vat_code = (unsigned) c->yookassa_vat_code, .tax_system_code = (unsigned) c->yookassa_tax_system_code,
        };
        return buf;
}
