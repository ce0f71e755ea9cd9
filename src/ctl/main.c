/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sysexits.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "log.h"
#include "migrate.h"
#include "pg.h"
#include "shop-catalog.h"

static const char help[] =
        "Usage: tgfleetctl [OPTIONS] COMMAND …\n"
        "Operate a tgfleet installation.\n\n"
        "Commands:\n"
        "  migrate                  apply pending database migrations\n"
        "  check-config             check the configuration (the units' reload runs it first)\n"
        "  check-connections        check PostgreSQL, Redis and the payment providers\n"
        "  webhooks secret|set|info|delete BOT\n"
        "                           a platform bot's webhook: its secret_token, registering it\n"
        "                           with Telegram (the token from the credential store)\n"
        "  clients …                the booking platform's clients through the REST API: list,\n"
        "                           show, add, extend, suspend, resume, redeploy, remove\n"
        "  queue [retry TASK]       the deploy queue; put a dead-lettered task back on it\n"
        "  orders list|show …       the Stars shop's orders through the REST API\n"
        "  payments list …          the booking platform's subscription payments (REST API)\n"
        "  subscriptions run [--now=TIME]\n"
        "                           one run of the subscription lifecycle (reminders, suspension,\n"
        "                           removal), at TIME when given\n"
        "  sandbox …                act on tgfleet-sandbox (development): send, press, messages,\n"
        "                           heleket, yookassa, bot, chat; see tgfleetctl(1)\n\n"
        "Options:\n"
        "  --config=FILE            configuration file (default " CONFIG_DEFAULT_PATH ")\n"
        "  --credentials-dir=DIR    credentials directory (default $CREDENTIALS_DIRECTORY)\n"
        CLI_HELP_END;

const char migrate_usage[] =
        "Usage: tgfleetctl migrate [DIRECTORY]\n"
        "Applies the pending migrations of DIRECTORY (default [Database] MigrationsDirectory=).\n"
        "Exits 75 when the database cannot be reached, 1 when a migration fails.\n";

const char check_config_usage[] =
        "Usage: tgfleetctl [--config=FILE] check-config\n"
        "Reads the configuration and its drop-ins as the services do and says what is wrong, naming\n"
        "the file and the setting; exits 1 then, 0 when every service would take it.\n";

/* Only what config_load() leaves to the services: it has already refused a value that does not
 * parse, before any verb runs. */
int verb_check_config(const Config *c, int argc, char *argv[]) {
        ShopCatalog catalog;

        if (argc > 1) {
                fputs(check_config_usage, stderr);
                return 2;
        }
        if (shop_catalog_load(c, &catalog) < 0) {
                log_error("Invalid [Shop] settings: Packages= (STARS:PRICE …), StarPrice=, Currency= (3–5 capital "
                          "letters), CustomMin= ≤ CustomMax=.");
                return 1;
        }
        puts("The configuration is valid.");
        return 0;
}

PGconn *ctl_pg_connect(const Config *c) {
        const char *keys[] = { "dbname", NULL }, *vals[] = { c->database_url, NULL };
        PGconn *conn = PQconnectdbParams(keys, vals, 1);

        if (PQstatus(conn) != CONNECTION_OK) {
                log_error("Cannot connect to the database: %s", PQerrorMessage(conn));
                PQfinish(conn);
                return NULL;
        }
        PQclear(PQexec(conn, "SET client_min_messages = warning"));
        return conn;
}

int verb_migrate(const Config *c, int argc, char *argv[]) {
        _cleanup_(PQfinishp) PGconn *conn = NULL;
        const char *dir = argc > 1 ? argv[1] : c->migrations_dir;
        int r;

        if (argc > 2) {
                fputs(migrate_usage, stderr);
                return 2;
        }
        conn = ctl_pg_connect(c);
        if (!conn)
                return EX_TEMPFAIL;   /* worth trying again: tgfleet-migrate.service does */
        r = migrate_apply(conn, dir);
        if (r < 0)
                return 1;
        if (r == 0)
                puts("Database schema is up to date.");
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = { TGFLEET_COMMON_OPTIONS, {} };
        static const struct {
                const char *name;
                int (*fn)(const Config *, int, char *[]);
                const char *usage;
        } verbs[] = {
                { "migrate", verb_migrate, migrate_usage },
                { "check-config", verb_check_config, check_config_usage },
                { "check-connections", verb_check_connections, check_usage },
                { "webhooks", verb_webhooks, webhooks_usage },
                { "sandbox", verb_sandbox, sandbox_usage },
                { "clients", verb_clients, clients_usage },
                { "queue", verb_queue, queue_usage },
                { "orders", verb_orders, orders_usage },
                { "payments", verb_payments, payments_usage },
                { "subscriptions", verb_subscriptions, subscriptions_usage },
        };
        const char *config_path = CONFIG_DEFAULT_PATH;
        Config config;
        int c, r;

        log_setup("tgfleetctl", getenv("TGFLEET_LOG_LEVEL"));
        /* "+": stop at the verb, its own options are its business. */
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0) {
                r = cli_common_option(c, optarg, help, &config_path);
                if (r == 0)
                        return 0;
                if (r < 0)
                        return 2;
        }
        if (optind >= argc) {
                fputs(help, stderr);
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[optind], verbs[i].name))
                        continue;
                /* --help anywhere before "--" is the verb's usage, whatever else is there. */
                for (int j = optind + 1; j < argc && !streq(argv[j], "--"); j++)
                        if (streq(argv[j], "--help") || streq(argv[j], "-h")) {
                                fputs(verbs[i].usage, stdout);
                                return 0;
                        }
                if (config_load(&config, config_path) < 0)
                        return 1;
                r = verbs[i].fn(&config, argc - optind, argv + optind);
                config_done(&config);
                return r;
        }
        log_error("Unknown command \"%s\"; see tgfleetctl --help.", argv[optind]);
        return 2;
}
