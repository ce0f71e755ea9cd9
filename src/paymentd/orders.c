/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "orders.h"

static int copy_text(const PGresult *res, int row, int col, char *buf, size_t size) {
        const char *v = PQgetvalue(res, row, col);
        size_t l = (size_t) PQgetlength(res, row, col);

        if (l >= size)
                return -EIO;
        memcpy(buf, v, l + 1);
        return 0;
}

static int get_int64(const PGresult *res, int row, int col, int64_t *ret) {
        char *end;

        errno = 0;
        *ret = strtoll(PQgetvalue(res, row, col), &end, 10);
        return errno || *end || PQgetisnull(res, row, col) ? -EIO : 0;
}

int order_from_row(const PGresult *res, int row, int col, Order *ret) {
        Order o = {};

        if (PQnfields(res) < col + 11 || row >= PQntuples(res))
                return -EIO;
        if (copy_text(res, row, col + 0, o.public_id, sizeof o.public_id) < 0 ||
            copy_text(res, row, col + 1, o.bot, sizeof o.bot) < 0 ||
            get_int64(res, row, col + 2, &o.user) < 0 ||
            get_int64(res, row, col + 3, &o.stars) < 0 ||
            get_int64(res, row, col + 4, &o.price_minor) < 0 ||
            copy_text(res, row, col + 5, o.currency, sizeof o.currency) < 0 ||
            copy_text(res, row, col + 6, o.status, sizeof o.status) < 0 ||
            copy_text(res, row, col + 7, o.pay_url, sizeof o.pay_url) < 0 ||
            get_int64(res, row, col + 8, &o.paid_minor) < 0 ||
            get_int64(res, row, col + 9, &o.created_at) < 0 ||
            get_int64(res, row, col + 10, &o.expires_at) < 0)
                return -EIO;
        *ret = o;
        return 0;
}

const char *order_status_from_heleket(const char *payment_status) {
        static const struct { const char *heleket, *order; } map[] = {
                { "paid", "paid" },
                { "paid_over", "paid_over" },
                /* Paid less: the payer may still pay the rest through the invoice, or not. */
                { "wrong_amount_waiting", "wrong_amount" },
                { "wrong_amount", "underpaid" },
                { "cancel", "expired" },
                { "fail", "failed" },
                { "system_fail", "failed" },
                { "refund_paid", "refunded" },
        };

        for (size_t i = 0; payment_status && i < ELEMENTSOF(map); i++)
                if (streq(payment_status, map[i].heleket))
                        return map[i].order;
        return NULL;
}

bool order_status_is_open(const char *status) {
        return streq(status, "pending") || streq(status, "wrong_amount");
}
