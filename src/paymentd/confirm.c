/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log-fields.h"
#include "money.h"
#include "orders.h"
#include "events.h"
#include "paymentd.h"

#define APPLY_SQL                                                                               \
        "SELECT a.status::text, a.changed FROM orders o, "                                      \
        "order_apply_status(o.id, $2::order_status, $3::bigint, $4) a WHERE o.public_id = $1"

typedef struct Confirm {
        Paymentd *p;
        char source[16];
        char key[130];            /* uuid or order id, for logs */
        char status[16];          /* the order status being applied */
        bool by_uuid;
        bool expire_unknown;
        ConfirmFn cb;
        void *userdata;
} Confirm;

static void finish(Confirm *c, int error, const char *status, bool changed) {
        if (error < 0 && error != -ENOENT)
                c->p->stats.failures++;
        c->cb(error, status, changed, c->userdata);
        free(c);
}

static void on_applied(Pg *pg, const PGresult *res, void *userdata) {
        Confirm *c = userdata;
        bool changed;

        if (pg_result_to_errno(res) < 0) {
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_ORDER(c->key)),
                           "Could not apply status %s to order %s: %s", c->status, c->key,
                           res ? PQresultErrorMessage(res) : "connection lost");
                return finish(c, -EIO, NULL, false);
        }
        if (PQntuples(res) != 1) {
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_ORDER(c->key)),
                           "Heleket reports %s for order %s, which is not ours.", c->status, c->key);
                return finish(c, -ENOENT, NULL, false);
        }
        changed = PQgetvalue(res, 0, 1)[0] == 't';
        if (changed) {
                c->p->stats.changes++;
                log_struct(LOG_NOTICE, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_ORDER_STATUS), LOG_ORDER(c->key)),
                           "Order %s is now %s (%s).", c->key, PQgetvalue(res, 0, 0), c->source);
                outbox_kick(c->p->outbox);
        }
        finish(c, 0, PQgetvalue(res, 0, 0), changed);
}

static void apply(Confirm *c, const char *order_id, const char *status, const char *paid) {
        const char *params[] = { order_id, status, paid, c->source };
        int r;

        if (order_id != c->key)
                snprintf(c->key, sizeof c->key, "%s", order_id);
        snprintf(c->status, sizeof c->status, "%s", status);
        r = pg_query(c->p->daemon.pg, APPLY_SQL, 4, params, on_applied, c);
        if (r < 0)
                finish(c, r == -ENOTCONN ? -EIO : r, NULL, false);
}

static void on_info(int error, const HeleketInvoice *inv, void *userdata) {
        Confirm *c = userdata;
        const char *status;
        char paid[24];
        const char *received;
        int64_t minor;

        if (error == -ENOENT && c->expire_unknown && !c->by_uuid)
                return apply(c, c->key, "expired", NULL);
        if (error < 0) {
                if (error != -ENOENT)
                        log_struct(LOG_WARNING, error, LOG_FIELDS(LOG_PAYMENT(c->by_uuid ? c->key : NULL),
                                                                  LOG_ORDER(c->by_uuid ? NULL : c->key)),
                                   "Could not confirm payment %s with Heleket: %m", c->key);
                return finish(c, error, NULL, false);
        }
        status = order_status_from_heleket(inv->status);
        if (!status)
                return finish(c, 0, NULL, false);
        /* What was really received: shown to an underpaying user. Absent or odd means unknown. */
        received = heleket_paid_in_invoice_currency(inv);
        if (received && money_parse(received, 2, &minor) == 0 && minor >= 0)
                snprintf(paid, sizeof paid, "%" PRId64, minor);
        else
                paid[0] = 0;
        apply(c, inv->order_id, status, paid[0] ? paid : NULL);
}

int payment_confirm(Paymentd *p, const char *uuid, const char *order_id, const char *source,
                    bool expire_unknown, ConfirmFn cb, void *userdata) {
        Confirm *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        *c = (Confirm) { .p = p, .by_uuid = !!uuid, .expire_unknown = expire_unknown, .cb = cb, .userdata = userdata };
        snprintf(c->source, sizeof c->source, "%s", source);
        snprintf(c->key, sizeof c->key, "%s", uuid ?: order_id);
        p->stats.events++;
        r = heleket_payment_info(p->heleket, uuid, uuid ? NULL : order_id, on_info, c);
        if (r < 0)
                free(c);
        return r;
}
