/* SPDX-License-Identifier: MIT */
/* A role's D-Bus method calls (to org.tgfleet.Payments1, Deploy1 or Booking1) on behalf of the
 * work being handled: the reply, or the failure to send, comes back to the role's function. */

#include <stdarg.h>
#include <stdlib.h>

#include "botd.h"
#include "log-fields.h"

#define BUS_TIMEOUT_USEC (90 * USEC_PER_SEC)   /* paymentd retries its providers within this */

typedef struct BusCall {
        Work *w;
        WorkReplyFn fn;
} BusCall;

static int on_bus_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BusCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_BOT(c->w->b->bot)), "%s call failed: %s: %s",
                           sd_bus_message_get_interface(m) ?: "D-Bus", e->name, strempty(e->message));
        c->fn(c->w, m, e);
        free(c);
        return 0;
}

void work_bus_call(Work *w, const char *destination, const char *path, const char *method, WorkReplyFn fn,
                   const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = daemon_bus(&w->b->daemon);
        sd_bus_error e = SD_BUS_ERROR_NULL;
        BusCall *c = calloc(1, sizeof *c);
        va_list ap;
        int r = !c ? -ENOMEM : !bus ? -ENOTCONN : 0;

        if (c)
                *c = (BusCall) { .w = w, .fn = fn };
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, destination, path, destination, method);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_bus_reply, c, BUS_TIMEOUT_USEC);
        if (r < 0) {
                free(c);
                log_struct(LOG_WARNING, r, LOG_FIELDS(LOG_BOT(w->b->bot)), "%s.%s call could not be made: %m",
                           destination, method);
                sd_bus_error_set_errno(&e, r);
                fn(w, NULL, &e);
                sd_bus_error_free(&e);
        }
}
