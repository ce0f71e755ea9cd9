/* SPDX-License-Identifier: MIT */
/* /api/payments: the booking platform's subscription payments, read-only, for the operator,
 * newest first. */

#include <inttypes.h>
#include <stdio.h>

#include "request.h"

#define PAGE_MAX 100
#define PAGE_DEFAULT 20

#define LIST_SQL \
        "WITH f AS (SELECT * FROM subscription_payments" \
        "           WHERE ($1::text IS NULL OR status = $1::text)" \
        "             AND ($2::bigint IS NULL OR tenant_id = $2::bigint)" \
        "             AND ($3::bigint IS NULL OR owner_id = $3::bigint))" \
        "SELECT jsonb_build_object(" \
        "  'items', coalesce((SELECT jsonb_agg(subscription_payment_json(p) ORDER BY p.created_at DESC, p.id DESC)" \
        "                     FROM (SELECT * FROM f ORDER BY created_at DESC, id DESC LIMIT $4::int OFFSET $5::int) p), '[]')," \
        "  'total', (SELECT count(*) FROM f), 'limit', $4::int, 'offset', $5::int)"

static const char *const statuses[] = { "new", "pending", "succeeded", "canceled", "refunded" };

void payments_list(Request *q) {
        char client_s[24], owner_s[24], limit_s[24], offset_s[24];
        int64_t client, owner, limit, offset;
        const char *status;

        if (!request_enum_arg(q, "status", statuses, ELEMENTSOF(statuses), &status))
                return;
        if (!request_int_arg(q, "client_id", 1, INT64_MAX, 0, &client) ||
            !request_int_arg(q, "owner_id", 1, INT64_MAX, 0, &owner) ||
            !request_int_arg(q, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
            !request_int_arg(q, "offset", 0, INT32_MAX, 0, &offset))
                return;
        snprintf(client_s, sizeof client_s, "%" PRId64, client);
        snprintf(owner_s, sizeof owner_s, "%" PRId64, owner);
        snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
        snprintf(offset_s, sizeof offset_s, "%" PRId64, offset);
        const char *params[] = { status, client > 0 ? client_s : NULL, owner > 0 ? owner_s : NULL, limit_s, offset_s };
        (void) request_query_json(q, 200, LIST_SQL, ELEMENTSOF(params), params);
}
