/* SPDX-License-Identifier: MIT */
/* tgfleetctl payments list: the booking platform's subscription payments through the REST API
 * (GET /api/payments). */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "ctl.h"
#include "json-util.h"

const char payments_usage[] =
        "Usage: tgfleetctl payments list [--status=S] [--client=ID] [--owner=ID] [--limit=N] [--offset=N] [--json]\n"
        "Statuses: new, pending, succeeded, canceled, refunded.\n";

static void print_payment_line(json_object *p) {
        int64_t client = 0, days = 0;
        char amount[64];

        (void) json_get_int64(p, "client_id", &client);
        (void) json_get_int64(p, "days", &days);
        if (json_object_get_boolean(json_object_object_get(p, "trial")))
                snprintf(amount, sizeof amount, "free trial");
        else
                snprintf(amount, sizeof amount, "%s %s", json_get_string(p, "amount") ?: "?",
                         json_get_string(p, "currency") ?: "");
        printf("%-23s  %-9s  %8" PRId64 "  %5" PRId64 "  %14s  %-5s  %s\n", json_get_string(p, "id") ?: "?",
               json_get_string(p, "status") ?: "?", client, days, amount,
               json_object_get_boolean(json_object_object_get(p, "auto_renew")) ? "yes" : "no",
               json_get_string(p, "paid_at") ?: json_get_string(p, "created_at") ?: "");
}

static void print_page(json_object *page) {
        char header[160];

        snprintf(header, sizeof header, "%-23s  %-9s  %8s  %5s  %14s  %-5s  %s\n", "PAYMENT", "STATUS", "CLIENT", "DAYS", "AMOUNT", "RENEW",
                 "PAID (OR CREATED)");
        ctl_print_page(page, header, print_payment_line, "payment");
}

int verb_payments(const Config *config, int argc, char *argv[]) {
        static const struct option options[] = {
                { "status", required_argument, NULL, 's' },
                { "client", required_argument, NULL, 'c' },
                { "owner", required_argument, NULL, 'o' },
                { "limit", required_argument, NULL, 'l' },
                { "offset", required_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        static const char *const keys[] = { ['s'] = "status", ['c'] = "client_id", ['o'] = "owner_id", ['l'] = "limit",
                                             ['f'] = "offset" };
        CtlApi api;
        int r;

        if (argc < 2 || !streq(argv[1], "list")) {
                fputs(payments_usage, stderr);
                return 2;
        }
        if (ctl_api_open(config, &api) < 0)
                return 1;
        optind = 0;
        r = ctl_api_list(&api, "/api/payments", argc - 1, argv + 1, options, keys, ELEMENTSOF(keys), payments_usage,
                         print_page);
        ctl_api_close(&api);
        return r;
}
