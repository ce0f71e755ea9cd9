/* SPDX-License-Identifier: MIT */
/* /api/orders: the Stars shop's orders, read-only, for the operator. An order's detail carries
 * its story (order_events) and the ledger movements it caused. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "webhook-secret.h"

#define PAGE_MAX 100
#define PAGE_DEFAULT 20

#define LIST_SQL \
        "WITH f AS (SELECT * FROM orders" \
        "           WHERE ($1::order_status IS NULL OR status = $1::order_status)" \
        "             AND ($2::bigint IS NULL OR user_id = $2::bigint)" \
        "             AND ($3::text IS NULL OR bot = $3::text))" \
        "SELECT jsonb_build_object(" \
        "  'items', coalesce((SELECT jsonb_agg(order_json(p) ORDER BY p.created_at DESC, p.id DESC)" \
        "                     FROM (SELECT * FROM f ORDER BY created_at DESC, id DESC LIMIT $4::int OFFSET $5::int) p), '[]')," \
        "  'total', (SELECT count(*) FROM f), 'limit', $4::int, 'offset', $5::int)"
#define GET_SQL \
        "SELECT order_json(o) || jsonb_build_object(" \
        "  'events', coalesce((SELECT jsonb_agg(jsonb_build_object('at', utc_text(e.at), 'from', e.from_status," \
        "                                                          'to', e.to_status, 'source', e.source) ORDER BY e.id)" \
        "                      FROM order_events e WHERE e.order_id = o.id), '[]')," \
        "  'ledger', coalesce((SELECT jsonb_agg(jsonb_build_object('at', utc_text(t.created_at), 'key', t.idempotency_key," \
        "                                                          'description', t.description) ORDER BY t.id)" \
        "                      FROM ledger_transactions t WHERE t.order_id = o.id), '[]'))" \
        "FROM orders o WHERE o.public_id = $1"

static const char *const statuses[] = {
        "pending", "paid", "paid_over", "wrong_amount", "underpaid", "expired", "failed", "cancelled", "refunded",
};

void orders_list(Request *q) {
        const char *status, *bot = request_arg(q, "bot");
        char user_s[24], limit_s[24], offset_s[24];
        int64_t user, limit, offset;

        if (!request_enum_arg(q, "status", statuses, ELEMENTSOF(statuses), &status))
                return;
        if (bot && !bot_name_valid(bot, strlen(bot)))
                return request_reply_error(q, 400, "bad_request", "bot must be 1–64 letters, digits, '_' or '-'.");
        if (!request_int_arg(q, "user_id", 1, INT64_MAX, 0, &user) ||
            !request_int_arg(q, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
            !request_int_arg(q, "offset", 0, INT32_MAX, 0, &offset))
                return;
        snprintf(user_s, sizeof user_s, "%" PRId64, user);
        snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
        snprintf(offset_s, sizeof offset_s, "%" PRId64, offset);
        const char *params[] = { status, user > 0 ? user_s : NULL, bot, limit_s, offset_s };
        (void) request_query_json(q, 200, LIST_SQL, ELEMENTSOF(params), params);
}

void orders_get(Request *q, const char *id) {
        const char *params[] = { id };

        (void) request_query_json(q, 200, GET_SQL, 1, params);
}
