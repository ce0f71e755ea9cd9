/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet's configuration: /etc/tgfleet/tgfleet.conf and then tgfleet.conf.d/NAME.conf in lexical
 * order (a later assignment overrides an earlier one; list settings append, and an empty
 * assignment empties the list). Every key has a working default. Secrets never live here: see
 * creds.h. */

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

#define CONFIG_DEFAULT_PATH "/etc/tgfleet/tgfleet.conf"

/* A list of Telegram user ids (positive integers), written separated by spaces or commas. */
typedef struct IdList {
        int64_t *ids;
        size_t n;
} IdList;

/* Whether @id is in @l. */
bool idlist_contains(const IdList *l, int64_t id);

typedef struct Config {
        /* [Redis] */
        char *redis_url;
        uint64_t redis_min_replicas_ack;
        uint64_t redis_replica_timeout_usec;
        uint64_t redis_command_timeout_usec;
        uint64_t redis_stream_retention_usec;

        /* [Database] */
        char *database_url;
        uint64_t database_query_timeout_usec;
        char *migrations_dir;

        /* [Webhook] */
        uint64_t webhook_max_body;
        uint64_t webhook_max_connections;
        uint64_t webhook_max_connections_per_address;
        uint64_t webhook_connection_timeout_usec;
        uint64_t webhook_connection_memory;
        uint64_t webhook_dedupe_usec;
        NetList webhook_telegram_allow;
        NetList webhook_heleket_allow;
        NetList webhook_yookassa_allow;
        NetList webhook_trusted_proxies;
        NetList webhook_monitor_allow;      /* /metrics, /health/db, /health/redis */

        /* [Heleket] */
        char *heleket_url;
        char *heleket_merchant;

        /* [YooKassa] */
        char *yookassa_url;
        char *yookassa_shop_id;
        bool yookassa_test_shop;     /* YooKassa's test shop: its payments are test payments */
        bool yookassa_receipt;       /* a 54-FZ receipt with every subscription payment */
        uint64_t yookassa_vat_code;  /* its item's vat_code, 1-12 */
        uint64_t yookassa_tax_system_code;   /* its tax_system_code, 1-6; 0: not sent */

        /* [Sales] */
        char *sales_plans;           /* DAYS:PRICE … (sales-plans.c) */
        char *sales_currency;
        char *sales_return_url;      /* where YooKassa sends the payer back */
        char *sales_bot;
        char *sales_support;
        uint64_t sales_pending_ttl_usec;   /* an unpaid new client is removed after this */
        uint64_t sales_trial_days;   /* a new client's free trial, once per user and bot; 0: none */

        /* [Subscriptions] */
        char *subscriptions_remind_before;         /* durations ("72h 24h"), subscription-lifecycle.c */
        char *subscriptions_renew_before;          /* a duration ("96h"), as above */
        uint64_t subscriptions_grace_usec;
        uint64_t subscriptions_remove_after_days;
        uint64_t subscriptions_interval_usec;

        /* [Telegram] */
        char *telegram_url;

        /* [Sandbox] */
        char *sandbox_url;

        /* [Shop] */
        char *shop_bot;
        char *shop_currency;
        char *shop_packages;          /* "STARS:PRICE …", see shop-catalog.h */
        char *shop_star_price;        /* decimal, per Star, for custom amounts */
        uint64_t shop_custom_min;
        uint64_t shop_custom_max;
        uint64_t shop_invoice_lifetime_usec;
        char *shop_callback_url;
        char *shop_support;

        /* [Bots] */
        uint64_t bots_requests_per_minute;
        uint64_t bots_request_burst;
        uint64_t bots_chat_ttl_usec;
        uint64_t bots_messages_per_second;
        uint64_t bots_chat_messages_per_second;
        uint64_t bots_group_messages_per_minute;

        /* [Payments] */
        uint64_t payments_reconcile_interval_usec;
        uint64_t payments_reconcile_after_usec;
        uint64_t payments_claim_idle_usec;
        uint64_t payments_breaker_threshold;
        uint64_t payments_breaker_cooldown_usec;
        char *deploy_public_url;
        char *deploy_token_dir;
        uint64_t deploy_max_attempts;
        uint64_t deploy_retry_usec;
        uint64_t deploy_retry_max_usec;
        uint64_t deploy_unit_timeout_usec;
        uint64_t deploy_reconcile_interval_usec;
        char *deploy_allowed_updates;
        char *booking_socket;
        char *master_bot;
        IdList master_operators;
        char *api_url;
} Config;

/* One entry of the key table; exposed so tests can compare it with conf/tgfleet.conf. */
typedef struct ConfigItem {
        const char *section;
        const char *key;
        const char *default_value;
} ConfigItem;

/* Returns the table of every known key, terminated by an entry with section NULL. */
const ConfigItem *config_items(void);

/* Fills @ret with the defaults, then applies @path (may be missing; -ENOENT is not an error) and
 * its drop-ins from "@path.d/". On failure returns -EINVAL (a bad value, logged with file, section
 * and key) or -ENOMEM and leaves @ret untouched. Unknown keys are logged and ignored. */
int config_load(Config *ret, const char *path);

/* Frees what @c owns and zeroes it. */
void config_done(Config *c);
