/* SPDX-License-Identifier: MIT */
/* org.tgfleet.Booking1 (booking-bus.h): a table of methods, each one statement over the caller's
 * business. The caller is a peer (peer.c) whose tenant its connection's credentials gave; the
 * statement runs with the tenant as $1 and the call's arguments after it, and its one text value
 * is the answer. A peer that is no tenant bot is refused every call. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookingd.h"
#include "booking-bus.h"
#include "log.h"

#define ARGS_MAX 5

typedef struct Method {
        const char *member;
        unsigned anyone;       /* bit i: argument i, when 0, is NULL ("anyone") */
        const char *sql;       /* $1 the tenant, then the arguments; one row of one text value */
} Method;

static const Method methods[] = {
        { "Business", 0, "SELECT booking_business($1)::text" },
        { "Customer", 0, "SELECT booking_customer_json($1, $2, $3, $4)::text" },
        { "Days", 1u << 1, "SELECT booking_days_json($1, $2, $3, $4::date, $5::date)::text" },
        { "Slots", 1u << 1, "SELECT booking_slots_json($1, $2, $3, $4::date)::text" },
        { "Nearest", 1u << 1, "SELECT booking_nearest_json($1, $2, $3, to_timestamp($4), $5)::text" },
        { "Book", 1u << 2, "SELECT booking_book_json($1, $2, $3, $4, to_timestamp($5))::text" },
        { "Cancel", 0, "SELECT booking_cancel_json($1, $2, $3, $4, $5)::text" },
        { "Reschedule", 1u << 2, "SELECT booking_reschedule_json($1, $2, $3, $4, to_timestamp($5))::text" },
        { "Bookings", 0, "SELECT booking_bookings_json($1, $2)::text" },
        { "Booking", 0, "SELECT coalesce(booking_customer_card($1, $2, $3), 'null')::text" },
        { "SetPhone", 0, "SELECT json_build_object('phone', $3::text)::text FROM booking_customer_phone($1, $2, $3)" },
        { "Day", 0, "SELECT coalesce(booking_day_json($1, $2, $3::date), 'null')::text" },
        { "Requests", 0, "SELECT coalesce(booking_requests_json($1, $2), 'null')::text" },
        { "Manage", 0, "SELECT coalesce(booking_manage_json($1, $2, $3), 'null')::text" },
        { "Act", 0, "SELECT booking_act_json($1, $2, $3, $4, $5)::text" },
        { "Stats", 0, "SELECT coalesce(booking_stats_json($1, $2, $3::date, $4::date), 'null')::text" },
        { "Team", 0, "SELECT coalesce(booking_team_json($1, $2), 'null')::text" },
        { "SetAdmin", 0, "SELECT json_build_object('outcome', booking_admin_set($1, $2, $3, $4::integer <> 0))::text" },
        { "Coming", 0, "SELECT json_build_object('outcome', booking_coming($1, $2, $3))::text" },
        { "Rate", 0, "SELECT json_build_object('outcome', booking_rate($1, $2, $3, $4))::text" },
        { "LinkStaff", 0, "SELECT json_build_object('outcome', booking_staff_link($1, $2, $3, $4))::text" },
};

/* One method call being answered. */
typedef struct Call {
        Bookingd *b;
        sd_bus_message *m;
        const Method *method;
        size_t n;                         /* arguments */
        const char *params[ARGS_MAX + 1]; /* the tenant, then the arguments (strings point into m) */
        char numbers[ARGS_MAX + 1][24];
} Call;

static Call *call_free(Call *c) {
        if (c) {
                sd_bus_message_unref(c->m);
                free(c);
        }
        return NULL;
}

static void reply_error(Call *c, const char *name, const char *message) {
        (void) sd_bus_reply_method_errorf(c->m, name, "%s", message);
        call_free(c);
}

/* Reads the arguments of @c->m, as its signature (which sd-bus checked against the vtable) has
 * them, into @c->params[1…]. */
static int read_args(Call *c) {
        const char *sig = sd_bus_message_get_signature(c->m, true);
        int r;

        if (!sig || strlen(sig) > ARGS_MAX)
                return -EINVAL;
        for (c->n = 0; sig[c->n]; c->n++) {
                size_t i = c->n + 1;
                int64_t x;
                int32_t v;

                switch (sig[c->n]) {
                case 'x':
                        r = sd_bus_message_read_basic(c->m, 'x', &x);
                        if (r < 0)
                                return r;
                        snprintf(c->numbers[i], sizeof c->numbers[i], "%" PRId64, x);
                        c->params[i] = (x == 0 && (c->method->anyone & (1u << c->n))) ? NULL : c->numbers[i];
                        break;
                case 'i':
                        r = sd_bus_message_read_basic(c->m, 'i', &v);
                        if (r < 0)
                                return r;
                        snprintf(c->numbers[i], sizeof c->numbers[i], "%" PRId32, v);
                        c->params[i] = c->numbers[i];
                        break;
                case 's':
                        r = sd_bus_message_read_basic(c->m, 's', &c->params[i]);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

static void on_result(Pg *pg, const PGresult *res, void *userdata) {
        Call *c = userdata;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (pg_result_to_errno(res) < 0) {
                /* Class 22 (a value that is none) and 23 (a rule of the data): the caller's input. */
                if (state && (startswith(state, "22") || startswith(state, "23"))) {
                        c->b->stats.invalid++;
                        return reply_error(c, BOOKING_ERROR_INVALID_ARGUMENT,
                                           PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?: "Invalid argument.");
                }
                log_warning("Database query for %s failed: %s", c->method->member,
                            res ? PQresultErrorMessage(res) : "connection lost");
                c->b->stats.failures++;
                return reply_error(c, BOOKING_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
        }
        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
                return reply_error(c, BOOKING_ERROR_NO_SUCH_BUSINESS, "No booking data for this bot.");
        c->b->stats.calls++;
        if (sd_bus_message_new_method_return(c->m, &reply) >= 0 &&
            sd_bus_message_append_basic(reply, 's', PQgetvalue(res, 0, 0)) >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        call_free(c);
}

static int method_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Peer *p = userdata;
        Bookingd *b = p->b;
        const char *member = sd_bus_message_get_member(m);
        Call *c;
        int r;

        if (p->tenant < 0) {
                log_warning("Refused %s from uid %" PRIu32 ": not a tenant bot.", member, (uint32_t) p->uid);
                b->stats.refused++;
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only a business's own bot may use its bookings.");
        }
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (Call) { .b = b, .m = sd_bus_message_ref(m) };
        for (size_t i = 0; i < ELEMENTSOF(methods) && !c->method; i++)
                if (streq(methods[i].member, member))
                        c->method = &methods[i];
        r = c->method ? read_args(c) : -EINVAL;
        if (r < 0) {
                call_free(c);
                return r;
        }
        snprintf(c->numbers[0], sizeof c->numbers[0], "%" PRId64, p->tenant);
        c->params[0] = c->numbers[0];
        if (pg_query(b->daemon.pg, c->method->sql, (int) c->n + 1, c->params, on_result, c) < 0) {
                b->stats.failures++;
                reply_error(c, BOOKING_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
        }
        return 1;
}

const sd_bus_vtable booking_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Business", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Customer", SD_BUS_ARGS("x", user, "s", name, "s", lang),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Days", SD_BUS_ARGS("x", service, "x", staff, "s", from, "s", to),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Slots", SD_BUS_ARGS("x", service, "x", staff, "s", day),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Nearest", SD_BUS_ARGS("x", service, "x", staff, "x", after, "i", n),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Book", SD_BUS_ARGS("x", customer, "x", service, "x", staff, "x", starts),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("x", booking, "x", by, "s", as, "s", reason),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reschedule", SD_BUS_ARGS("x", booking, "x", customer, "x", staff, "x", starts),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Bookings", SD_BUS_ARGS("x", customer),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Booking", SD_BUS_ARGS("x", customer, "x", booking),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPhone", SD_BUS_ARGS("x", customer, "s", phone),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Day", SD_BUS_ARGS("x", user, "s", day),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Requests", SD_BUS_ARGS("x", user),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Manage", SD_BUS_ARGS("x", user, "x", booking),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Act", SD_BUS_ARGS("x", user, "x", booking, "s", action, "s", reason),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stats", SD_BUS_ARGS("x", user, "s", from, "s", to),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Team", SD_BUS_ARGS("x", user),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAdmin", SD_BUS_ARGS("x", user, "x", member, "i", add),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Coming", SD_BUS_ARGS("x", customer, "x", booking),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rate", SD_BUS_ARGS("x", customer, "x", booking, "i", stars),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LinkStaff", SD_BUS_ARGS("x", user, "x", staff, "x", telegram),
                                SD_BUS_RESULT("s", answer), method_call, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
