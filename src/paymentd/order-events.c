/* SPDX-License-Identifier: MIT */
/* order.* events for the bot the order was made in, which tells its user: the order's status
 * with what it paid and the user's balance after it. */

#include "events.h"

#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)

#define ORDERS_SQL                                                                              \
        "SELECT e.id, 'order.' || e.to_status, o.public_id, o.user_id, o.bot, o.stars, "        \
        "o.price_minor, o.currency, coalesce(o.paid_minor, -1), e.to_status::text, "            \
        "coalesce((SELECT balance FROM ledger_accounts a WHERE a.kind = 'user' "                \
        "AND a.user_id = o.user_id), 0) "                                                      \
        "FROM order_events e JOIN orders o ON o.id = e.order_id "                               \
        "WHERE NOT e.published ORDER BY e.id LIMIT " XSTRINGIFY(OUTBOX_BATCH)

static const char *const order_names[] = {
        "event", "type", "order", "user", "bot", "stars", "price_minor", "currency", "paid_minor", "status", "balance",
};

static const char *order_bot(void *userdata, const PGresult *res, int row) {
        return PQgetvalue(res, row, 4);
}

const OutboxKind order_events_kind = {
        .what = "order events",
        .unpublished_sql = ORDERS_SQL,
        .mark_sql = "UPDATE order_events SET published = true WHERE id = ANY($1::bigint[])",
        .names = order_names,
        .n_fields = ELEMENTSOF(order_names),
        .bot = order_bot,
};
