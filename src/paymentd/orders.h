/* SPDX-License-Identifier: MIT */
#pragma once

/* Orders as paymentd reads them from PostgreSQL and hands them out over D-Bus, and the mapping of
 * Heleket's payment statuses onto the order state machine (migrations/0002_shop_ledger.sql). */

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "payments-bus.h"


/* The select list every query that returns orders uses, in Order's field order. */
#define ORDER_COLUMNS                                                                           \
        "public_id, bot, user_id, stars, price_minor, currency, status::text, "                 \
        "coalesce(pay_url, ''), coalesce(paid_minor, -1), "          \
        "extract(epoch FROM created_at)::bigint, extract(epoch FROM expires_at)::bigint"

/* Fills @ret from row @row of @res (selected with ORDER_COLUMNS, starting at column @col).
 * Returns 0 or -EIO when the row does not have that shape. */
int order_from_row(const PGresult *res, int row, int col, Order *ret);

/* Whether the order has its invoice (a pay URL) yet. */
static inline bool order_has_invoice(const Order *o) {
        return o->pay_url[0] != 0;
}

/* The order status a Heleket payment_status means, or NULL for statuses that change nothing
 * (payment still in progress: check, process, confirm_check, refund_process, locked, …).
 * paid → paid, paid_over → paid_over, wrong_amount_waiting (paid less, the rest may follow) →
 * wrong_amount, wrong_amount (final) → underpaid, cancel → expired, fail and system_fail →
 * failed, refund_paid → refunded. */
const char *order_status_from_heleket(const char *payment_status);

/* Whether @status is one an order can still leave by paying (pending, wrong_amount). */
bool order_status_is_open(const char *status);
