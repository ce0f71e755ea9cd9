/* SPDX-License-Identifier: MIT */
/* Auto-renewal: the renewal payments subscription_renewals() made, charged to the method their
 * owner saved (reference/protocols.md §2: payment_method_id, no confirmation). Our payment's id is
 * the Idempotence-Key, so a charge repeated after a lost answer or a crash is the same charge; a
 * payment whose charge failed on the way stays 'new' and is charged again on the next pass. The
 * answer is applied as any payment's: a success extends the client once, a refusal reaches the
 * owner (subscription.canceled of a renewal) and the reminders go on as for anyone. */

#include <stdio.h>
#include <stdlib.h>

#include "log-fields.h"
#include "money.h"
#include "outbox.h"
#include "paymentd.h"

/* The next renewal to charge after $1 (ids are charged in order within a pass). */
#define NEXT_SQL                                                                                        \
        "SELECT s.id, s.amount_minor, s.currency, s.method_id, t.name, s.days, coalesce(c.kind, ''), "   \
        "coalesce(c.contact, '') FROM subscription_payments s JOIN tenants t ON t.id = s.tenant_id "      \
        "LEFT JOIN subscription_customers c ON c.owner_id = s.owner_id WHERE s.status = 'new' AND s.renews_until IS NOT NULL "   \
        "AND s.method_id IS NOT NULL AND t.status <> 'removed' AND s.id > $1 ORDER BY s.id LIMIT 1"
#define CREATED_SQL "SELECT id FROM subscription_payment_created($1, $2, '')"
#define ABANDON_SQL "SELECT id FROM subscription_renewal_abandon($1, $2)"

typedef struct Pass {
        Paymentd *p;
        char id[32];   /* the renewal being charged; the pass goes on after it */
        YooKassaPayment yp;
} Pass;

static void next(Pass *s);

static void pass_end(Pass *s) {
        Paymentd *p = s->p;

        free(s);
        p->renewals_running = false;
        if (p->renewals_again && !p->daemon.stopping) {
                p->renewals_again = false;
                renewals_run(p);
        }
}

static void on_applied(int error, const char *status, bool changed, void *userdata) {
        Pass *s = userdata;

        if (error < 0)
                log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(s->id)),
                           "Renewal %s was charged but not yet recorded; reconciliation records it.", s->id);
        next(s);
}

static void on_recorded(Pg *pg, const PGresult *res, void *userdata) {
        Pass *s = userdata;

        if (pg_result_to_errno(res) < 0) {
                /* YooKassa has the charge under our key: the next pass asks again and gets it. */
                log_warning("Cannot record the charge of renewal %s: %s", s->id,
                            res ? PQresultErrorMessage(res) : "connection lost");
                s->p->stats.failures++;
                return next(s);
        }
        if (subscription_apply(s->p, &s->yp, "renewal", on_applied, s) < 0)
                next(s);
}

static void on_abandoned(Pg *pg, const PGresult *res, void *userdata) {
        Pass *s = userdata;

        if (pg_result_to_errno(res) < 0)
                log_warning("Cannot cancel renewal %s: %s", s->id, res ? PQresultErrorMessage(res) : "connection lost");
        else
                outbox_kick(s->p->subscription_outbox);   /* the owner hears of it */
        next(s);
}

/* Cancels the renewal, never YooKassa's, for @reason; its method is forgotten. */
static void abandon(Pass *s, const char *reason) {
        const char *params[] = { s->id, reason };

        if (pg_query(s->p->daemon.pg, ABANDON_SQL, 2, params, on_abandoned, s) < 0)
                next(s);
}

static void on_charged(int error, const YooKassaPayment *yp, void *userdata) {
        Pass *s = userdata;

        if (error == -EINVAL) {
                /* Refused as invalid: YooKassa knows no such method (any more). Asking again would
                 * only be refused again. */
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_PAYMENT(s->id)),
                           "YooKassa refused renewal %s as invalid; auto-renewal of its client is off.", s->id);
                return abandon(s, "invalid_method");
        }
        if (error < 0) {
                log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(s->id)),
                           "Could not charge renewal %s (tried again on the next pass): %m", s->id);
                s->p->stats.failures++;
                return next(s);
        }
        s->yp = *yp;
        const char *params[] = { s->id, yp->id };
        if (pg_query(s->p->daemon.pg, CREATED_SQL, 2, params, on_recorded, s) < 0)
                next(s);
}

static void on_next(Pg *pg, const PGresult *res, void *userdata) {
        Pass *s = userdata;
        char amount[32], description[160];
        int r;

        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1 || s->p->daemon.stopping) {
                if (pg_result_to_errno(res) < 0)
                        log_warning("Cannot look for renewals to charge: %s", res ? PQresultErrorMessage(res) : "connection lost");
                return pass_end(s);
        }
        snprintf(s->id, sizeof s->id, "%s", PQgetvalue(res, 0, 0));
        if (money_format(strtoll(PQgetvalue(res, 0, 1), NULL, 10), 2, amount, sizeof amount) < 0)
                return next(s);
        snprintf(description, sizeof description, "%s: %s days, renewal", PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
        YooKassaReceipt buf;
        bool missing;
        const YooKassaReceipt *receipt = subscription_receipt(s->p, PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), &buf,
                                                              &missing);
        if (missing) {
                /* Receipts were turned on after the owner's last payment: none can be sent, and
                 * the owner, renewing by hand, is asked for a contact. */
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_PAYMENT(s->id)),
                           "Renewal %s has no contact for its receipt; auto-renewal of its client is off.", s->id);
                return abandon(s, "receipt_contact");
        }
        r = yookassa_create_payment(s->p->yookassa, &(YooKassaCreate) {
                .idempotence_key = s->id, .amount = amount, .currency = PQgetvalue(res, 0, 2),
                .description = description, .payment_method_id = PQgetvalue(res, 0, 3), .metadata_payment = s->id,
                .receipt = receipt,
        }, on_charged, s);
        if (r < 0) {
                /* The breaker is open, or out of memory: the next pass tries. */
                log_struct(LOG_WARNING, r, LOG_FIELDS(LOG_PAYMENT(s->id)), "Could not charge renewal %s: %m", s->id);
                pass_end(s);
        }
}

static void next(Pass *s) {
        const char *params[] = { s->id };

        if (pg_query(s->p->daemon.pg, NEXT_SQL, 1, params, on_next, s) < 0)
                pass_end(s);
}

void renewals_run(Paymentd *p) {
        Pass *s;

        if (!p->yookassa || p->daemon.stopping)
                return;
        if (p->renewals_running) {
                p->renewals_again = true;
                return;
        }
        s = calloc(1, sizeof *s);
        if (!s)
                return;
        *s = (Pass) { .p = p };
        p->renewals_running = true;
        next(s);
}
