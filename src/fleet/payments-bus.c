/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "payments-bus.h"

int payments_order_append(sd_bus_message *m, const Order *o) {
        return sd_bus_message_append(m, ORDER_SIGNATURE, o->public_id, o->bot, o->user, o->stars, o->price_minor,
                                     o->currency, o->status, o->pay_url, o->paid_minor, o->created_at,
                                     o->expires_at);
}

static int copy(char *buf, size_t size, const char *s) {
        if (strlen(s) >= size)
                return -EBADMSG;
        strcpy(buf, s);
        return 0;
}

int payments_order_read(sd_bus_message *m, Order *ret) {
        const char *id, *bot, *currency, *status, *url;
        Order o = {};
        int r;

        r = sd_bus_message_read(m, ORDER_SIGNATURE, &id, &bot, &o.user, &o.stars, &o.price_minor, &currency,
                                &status, &url, &o.paid_minor, &o.created_at, &o.expires_at);
        if (r <= 0)
                return r;
        if (copy(o.public_id, sizeof o.public_id, id) < 0 || copy(o.bot, sizeof o.bot, bot) < 0 ||
            copy(o.currency, sizeof o.currency, currency) < 0 || copy(o.status, sizeof o.status, status) < 0 ||
            copy(o.pay_url, sizeof o.pay_url, url) < 0)
                return -EBADMSG;
        *ret = o;
        return 1;
}
