/* SPDX-License-Identifier: MIT */
/* tgfleetctl orders …: the Stars shop's orders through the REST API (GET /api/orders). */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "log.h"
#include "money.h"

const char orders_usage[] =
        "Usage: tgfleetctl orders list [--status=S] [--user=ID] [--bot=NAME] [--limit=N] [--offset=N] [--json]\n"
        "       tgfleetctl orders show ORDER [--json]\n"
        "Statuses: pending, paid, paid_over, wrong_amount, underpaid, expired, failed, cancelled, refunded.\n";

/* "1.99 USD", or "-" for a null amount. */
static const char *amount(json_object *o, const char *key, char *buf, size_t size) {
        int64_t minor;
        char digits[32];

        if (json_get_int64(o, key, &minor) < 0 || money_format(minor, 2, digits, sizeof digits) < 0)
                return "-";
        snprintf(buf, size, "%s %s", digits, json_get_string(o, "currency") ?: "");
        return buf;
}

static void print_order_line(json_object *o) {
        int64_t user = 0, stars = 0;
        char price[48];

        (void) json_get_int64(o, "user_id", &user);
        (void) json_get_int64(o, "stars", &stars);
        printf("%-24s  %-12s  %12" PRId64 "  %8" PRId64 "  %14s  %s\n", json_get_string(o, "id") ?: "?",
               json_get_string(o, "status") ?: "?", user, stars, amount(o, "price_minor", price, sizeof price),
               json_get_string(o, "created_at") ?: "");
}

static void print_page(json_object *page) {
        char header[160];

        snprintf(header, sizeof header, "%-24s  %-12s  %12s  %8s  %14s  %s\n", "ORDER", "STATUS", "USER", "STARS", "PRICE", "CREATED");
        ctl_print_page(page, header, print_order_line, "order");
}

static void print_detail(json_object *o) {
        json_object *events = NULL, *ledger = NULL;
        int64_t user = 0, stars = 0;
        char price[48], paid[48];

        (void) json_get_int64(o, "user_id", &user);
        (void) json_get_int64(o, "stars", &stars);
        printf("Order:    %s (%s, bot %s)\n", json_get_string(o, "id") ?: "?", json_get_string(o, "provider") ?: "?",
               json_get_string(o, "bot") ?: "?");
        printf("Status:   %s\n", json_get_string(o, "status") ?: "?");
        printf("Buyer:    %" PRId64 "\n", user);
        printf("Stars:    %" PRId64 "\n", stars);
        printf("Price:    %s\n", amount(o, "price_minor", price, sizeof price));
        printf("Received: %s\n", amount(o, "paid_minor", paid, sizeof paid));
        printf("Invoice:  %s\n", json_get_string(o, "invoice_id") ?: "-");
        printf("Created:  %s\nUpdated:  %s\nExpires:  %s\n", json_get_string(o, "created_at") ?: "?",
               json_get_string(o, "updated_at") ?: "?", json_get_string(o, "expires_at") ?: "?");
        (void) json_object_object_get_ex(o, "events", &events);
        printf("\nStatus changes:%s\n", json_object_array_length(events) == 0 ? " none" : "");
        for (size_t i = 0; i < json_object_array_length(events); i++) {
                json_object *e = json_object_array_get_idx(events, i);
                printf("  %s  %s → %s (%s)\n", json_get_string(e, "at") ?: "?", json_get_string(e, "from") ?: "?",
                       json_get_string(e, "to") ?: "?", json_get_string(e, "source") ?: "?");
        }
        (void) json_object_object_get_ex(o, "ledger", &ledger);
        printf("\nStars moved:%s\n", json_object_array_length(ledger) == 0 ? " none" : "");
        for (size_t i = 0; i < json_object_array_length(ledger); i++) {
                json_object *t = json_object_array_get_idx(ledger, i);
                printf("  %s  %s (%s)\n", json_get_string(t, "at") ?: "?", json_get_string(t, "description") ?: "?",
                       json_get_string(t, "key") ?: "?");
        }
}

static int orders_list(CtlApi *api, int argc, char *argv[]) {
        static const struct option options[] = {
                { "status", required_argument, NULL, 's' },
                { "user", required_argument, NULL, 'u' },
                { "bot", required_argument, NULL, 'b' },
                { "limit", required_argument, NULL, 'l' },
                { "offset", required_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        static const char *const keys[] = { ['s'] = "status", ['u'] = "user_id", ['b'] = "bot", ['l'] = "limit", ['f'] = "offset" };

        return ctl_api_list(api, "/api/orders", argc, argv, options, keys, ELEMENTSOF(keys), orders_usage, print_page);
}

static int orders_show(CtlApi *api, const char *id, bool json) {
        json_object *answer = NULL;
        char path[192];

        if (isempty(id) || strlen(id) > 128 ||
            strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(id)) {
                log_error("Not an order id: %s", strempty(id));
                return 1;
        }
        snprintf(path, sizeof path, "/api/orders/%s", id);
        long status = ctl_api_call(api, "GET", path, NULL, NULL, &answer);
        return ctl_api_finish(status, answer, json ? ctl_print_json : print_detail);
}

int verb_orders(const Config *config, int argc, char *argv[]) {
        const char *verb = argc > 1 ? argv[1] : NULL;
        CtlApi api;
        int r;

        if (!verb || (!streq(verb, "list") && !streq(verb, "show")) ||
            (streq(verb, "show") && !(argc == 3 || (argc == 4 && streq(argv[3], "--json"))))) {
                fputs(orders_usage, stderr);
                return 2;
        }
        if (ctl_api_open(config, &api) < 0)
                return 1;
        optind = 0;
        r = streq(verb, "list") ? orders_list(&api, argc - 1, argv + 1) : orders_show(&api, argv[2], argc == 4);
        ctl_api_close(&api);
        return r;
}
