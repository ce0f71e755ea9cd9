/* SPDX-License-Identifier: MIT */
#undef NDEBUG
#include <assert.h>

#include "macro.h"
#include "orders.h"

int main(void) {
        /* Every Heleket status that settles something maps; everything in progress maps to nothing. */
        assert(streq(order_status_from_heleket("paid"), "paid"));
        assert(streq(order_status_from_heleket("paid_over"), "paid_over"));
        /* Paid less: open while the rest may come, final (underpaid) once it cannot. */
        assert(streq(order_status_from_heleket("wrong_amount_waiting"), "wrong_amount"));
        assert(streq(order_status_from_heleket("wrong_amount"), "underpaid"));
        assert(streq(order_status_from_heleket("cancel"), "expired"));
        assert(streq(order_status_from_heleket("fail"), "failed"));
        assert(streq(order_status_from_heleket("system_fail"), "failed"));
        assert(streq(order_status_from_heleket("refund_paid"), "refunded"));
        for (const char *const *s = (const char *const[]) { "check", "process", "confirm_check",
                                                           "refund_process", "refund_fail", "locked", "", NULL };
             *s; s++)
                assert(order_status_from_heleket(*s) == NULL);
        assert(order_status_from_heleket(NULL) == NULL);
        assert(order_status_is_open("pending") && order_status_is_open("wrong_amount"));
        assert(!order_status_is_open("paid") && !order_status_is_open("expired") && !order_status_is_open("underpaid"));
        return 0;
}
