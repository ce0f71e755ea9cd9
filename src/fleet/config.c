/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include "config.h"
#include "log.h"

typedef enum ConfigType {
        CONFIG_STRING,
        CONFIG_UINT,     /* plain non-negative integer */
        CONFIG_SIZE,     /* bytes, with optional K, M, G suffix (1024-based) */
        CONFIG_SECONDS,  /* seconds, may be fractional ("0.5"); stored as µs */
        CONFIG_NETLIST,
        CONFIG_IDLIST,
        CONFIG_BOOL,     /* yes/no, true/false, on/off, 1/0, as systemd reads them */
} ConfigType;

typedef struct ConfigKey {
        ConfigItem item;
        ConfigType type;
        size_t offset;
} ConfigKey;

#define K(sec, name, def, t, field) { { sec, name, def }, t, offsetof(Config, field) }

static const ConfigKey keys[] = {
        K("Redis", "URL", "redis://127.0.0.1:6379/0", CONFIG_STRING, redis_url),
        K("Redis", "MinReplicasAck", "0", CONFIG_UINT, redis_min_replicas_ack),
        K("Redis", "ReplicaAckTimeoutSec", "1", CONFIG_SECONDS, redis_replica_timeout_usec),
        K("Redis", "CommandTimeoutSec", "5", CONFIG_SECONDS, redis_command_timeout_usec),
        K("Redis", "StreamRetentionSec", "600", CONFIG_SECONDS, redis_stream_retention_usec),
        K("Database", "URL", "postgresql:///tgfleet", CONFIG_STRING, database_url),
        K("Database", "QueryTimeoutSec", "30", CONFIG_SECONDS, database_query_timeout_usec),
        K("Database", "MigrationsDirectory", "/usr/share/tgfleet/migrations", CONFIG_STRING, migrations_dir),
        K("Webhook", "MaxBodySize", "1M", CONFIG_SIZE, webhook_max_body),
        K("Webhook", "MaxConnections", "1024", CONFIG_UINT, webhook_max_connections),
        K("Webhook", "MaxConnectionsPerAddress", "128", CONFIG_UINT, webhook_max_connections_per_address),
        K("Webhook", "ConnectionTimeoutSec", "10", CONFIG_SECONDS, webhook_connection_timeout_usec),
        K("Webhook", "ConnectionMemory", "16K", CONFIG_SIZE, webhook_connection_memory),
        K("Webhook", "DedupeWindowSec", "86400", CONFIG_SECONDS, webhook_dedupe_usec),
        /* The published source ranges (reference/protocols.md §4); empty (a line "Key=") lets anyone. */
        K("Webhook", "TelegramAllowedAddresses", "149.154.160.0/20 91.108.4.0/22", CONFIG_NETLIST, webhook_telegram_allow),
        K("Webhook", "HeleketAllowedAddresses", "31.133.220.8", CONFIG_NETLIST, webhook_heleket_allow),
        K("Webhook", "YooKassaAllowedAddresses",
          "185.71.76.0/27 185.71.77.0/27 77.75.153.0/25 77.75.156.11 77.75.156.35 77.75.154.128/25 2a02:5180::/32",
          CONFIG_NETLIST, webhook_yookassa_allow),
        K("Webhook", "TrustedProxies", "", CONFIG_NETLIST, webhook_trusted_proxies),
        K("Webhook", "MonitorAllowedAddresses", "127.0.0.0/8 ::1", CONFIG_NETLIST, webhook_monitor_allow),
        K("Heleket", "URL", "https://api.heleket.com", CONFIG_STRING, heleket_url),
        K("Heleket", "Merchant", "", CONFIG_STRING, heleket_merchant),
        K("YooKassa", "URL", "https://api.yookassa.ru", CONFIG_STRING, yookassa_url),
        K("YooKassa", "ShopId", "", CONFIG_STRING, yookassa_shop_id),
        K("YooKassa", "TestShop", "no", CONFIG_BOOL, yookassa_test_shop),
        K("YooKassa", "Receipt", "no", CONFIG_BOOL, yookassa_receipt),
        K("YooKassa", "VatCode", "1", CONFIG_UINT, yookassa_vat_code),
        K("YooKassa", "TaxSystemCode", "0", CONFIG_UINT, yookassa_tax_system_code),
        K("Telegram", "URL", "https://api.telegram.org", CONFIG_STRING, telegram_url),
        K("Sandbox", "URL", "http://127.0.0.1:8081", CONFIG_STRING, sandbox_url),
        K("Sales", "Plans", "30:299 90:799 180:1499 365:2499", CONFIG_STRING, sales_plans),
        K("Sales", "Currency", "RUB", CONFIG_STRING, sales_currency),
        K("Sales", "ReturnURL", "", CONFIG_STRING, sales_return_url),
        K("Sales", "Bot", "sales", CONFIG_STRING, sales_bot),
        K("Sales", "Support", "", CONFIG_STRING, sales_support),
        K("Sales", "PendingTTLSec", "86400", CONFIG_SECONDS, sales_pending_ttl_usec),
        K("Sales", "TrialDays", "0", CONFIG_UINT, sales_trial_days),
        K("Subscriptions", "RemindBefore", "72h 24h", CONFIG_STRING, subscriptions_remind_before),
        K("Subscriptions", "RenewBefore", "96h", CONFIG_STRING, subscriptions_renew_before),
        K("Subscriptions", "GraceSec", "0", CONFIG_SECONDS, subscriptions_grace_usec),
        K("Subscriptions", "RemoveAfterDays", "30", CONFIG_UINT, subscriptions_remove_after_days),
        K("Subscriptions", "IntervalSec", "60", CONFIG_SECONDS, subscriptions_interval_usec),
        K("Shop", "Bot", "shop", CONFIG_STRING, shop_bot),
        K("Shop", "Currency", "USD", CONFIG_STRING, shop_currency),
        K("Shop", "Packages", "100:1.99 250:4.79 500:9.29 1000:17.99", CONFIG_STRING, shop_packages),
        K("Shop", "StarPrice", "0.0189", CONFIG_STRING, shop_star_price),
        K("Shop", "CustomMin", "50", CONFIG_UINT, shop_custom_min),
        K("Shop", "CustomMax", "100000", CONFIG_UINT, shop_custom_max),
        K("Shop", "InvoiceLifetimeSec", "3600", CONFIG_SECONDS, shop_invoice_lifetime_usec),
        K("Shop", "CallbackURL", "", CONFIG_STRING, shop_callback_url),
        K("Shop", "Support", "", CONFIG_STRING, shop_support),
        K("Bots", "RequestsPerMinute", "60", CONFIG_UINT, bots_requests_per_minute),
        K("Bots", "RequestBurst", "10", CONFIG_UINT, bots_request_burst),
        K("Bots", "ChatStateTTLSec", "86400", CONFIG_SECONDS, bots_chat_ttl_usec),
        K("Bots", "MessagesPerSecond", "30", CONFIG_UINT, bots_messages_per_second),
        K("Bots", "ChatMessagesPerSecond", "1", CONFIG_UINT, bots_chat_messages_per_second),
        K("Bots", "GroupMessagesPerMinute", "20", CONFIG_UINT, bots_group_messages_per_minute),
        K("Payments", "ReconcileIntervalSec", "60", CONFIG_SECONDS, payments_reconcile_interval_usec),
        K("Payments", "ReconcileAfterSec", "300", CONFIG_SECONDS, payments_reconcile_after_usec),
        K("Payments", "ClaimIdleSec", "60", CONFIG_SECONDS, payments_claim_idle_usec),
        K("Payments", "BreakerThreshold", "5", CONFIG_UINT, payments_breaker_threshold),
        K("Payments", "BreakerCooldownSec", "60", CONFIG_SECONDS, payments_breaker_cooldown_usec),
        K("Deploy", "PublicURL", "", CONFIG_STRING, deploy_public_url),
        K("Deploy", "TokenDirectory", "/var/lib/tgfleet-deployd/tokens", CONFIG_STRING, deploy_token_dir),
        K("Deploy", "MaxAttempts", "5", CONFIG_UINT, deploy_max_attempts),
        K("Deploy", "RetrySec", "2", CONFIG_SECONDS, deploy_retry_usec),
        K("Deploy", "RetryMaxSec", "300", CONFIG_SECONDS, deploy_retry_max_usec),
        K("Deploy", "UnitTimeoutSec", "90", CONFIG_SECONDS, deploy_unit_timeout_usec),
        K("Deploy", "ReconcileIntervalSec", "60", CONFIG_SECONDS, deploy_reconcile_interval_usec),
        K("Deploy", "AllowedUpdates", "message callback_query", CONFIG_STRING, deploy_allowed_updates),
        K("Booking", "Socket", "/run/tgfleet/booking.socket", CONFIG_STRING, booking_socket),
        K("Master", "Bot", "master", CONFIG_STRING, master_bot),
        K("Master", "Operators", "", CONFIG_IDLIST, master_operators),
        K("API", "URL", "http://127.0.0.1:8000", CONFIG_STRING, api_url),
        {},
};

const ConfigItem *config_items(void) {
        /* ConfigKey starts with a ConfigItem, but the stride differs: hand out a parallel table. */
        static ConfigItem items[ELEMENTSOF(keys)];
        if (!items[0].section)
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        items[i] = keys[i].item;
        return items;
}

static int parse_uint(const char *v, uint64_t *ret) {
        char *end;
        unsigned long long u;

        if (!*v || *v == '-' || *v == '+')
                return -EINVAL;
        errno = 0;
        u = strtoull(v, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = u;
        return 0;
}

static int parse_bool(const char *v, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
                        *ret = strcasecmp(v, yes[i]) == 0;
                        return 0;
                }
        return -EINVAL;
}

static int parse_size(const char *v, uint64_t *ret) {
        static const struct { char suffix; uint64_t factor; } units[] = {
                { 'K', 1024ULL }, { 'M', 1024ULL * 1024 }, { 'G', 1024ULL * 1024 * 1024 },
        };
        char num[32];
        size_t l = strlen(v);
        uint64_t factor = 1, n;

        if (l == 0 || l >= sizeof num)
                return -EINVAL;
        memcpy(num, v, l + 1);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (num[l - 1] == units[i].suffix) {
                        factor = units[i].factor;
                        num[--l] = 0;
                }
        if (parse_uint(num, &n) < 0 || n > UINT64_MAX / factor)
                return -EINVAL;
        *ret = n * factor;
        return 0;
}

static int parse_seconds(const char *v, uint64_t *ret) {
        uint64_t whole = 0, frac = 0, scale = USEC_PER_SEC;
        const char *dot = strchr(v, '.');
        char buf[32];

        if (strlen(v) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, v);
        if (dot) {
                buf[dot - v] = 0;
                for (const char *p = dot + 1; *p; p++) {
                        if (*p < '0' || *p > '9' || scale == 1)
                                return -EINVAL;
                        scale /= 10;
                        frac += (uint64_t) (*p - '0') * scale;
                }
        }
        if (parse_uint(buf, &whole) < 0 || whole > UINT64_MAX / USEC_PER_SEC - 1)
                return -EINVAL;
        *ret = whole * USEC_PER_SEC + frac;
        return 0;
}

bool idlist_contains(const IdList *l, int64_t id) {
        for (size_t i = 0; i < l->n; i++)
                if (l->ids[i] == id)
                        return true;
        return false;
}

/* Appends the ids in @value to @l; a bad one leaves @l as it was. */
static int idlist_append(IdList *l, const char *value) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        size_t n = l->n;
        int64_t *grown;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
                uint64_t id;
                if (parse_uint(t, &id) < 0 || id == 0 || id > INT64_MAX) {
                        l->n = n;
                        return -EINVAL;
                }
                grown = reallocarray(l->ids, l->n + 1, sizeof *grown);
                if (!grown) {
                        l->n = n;
                        return -ENOMEM;
                }
                l->ids = grown;
                l->ids[l->n++] = (int64_t) id;
        }
        return 0;
}

static void idlist_clear(IdList *l) {
        free(l->ids);
        *l = (IdList) {};
}

static int assign(Config *c, const ConfigKey *k, const char *value) {
        void *field = (char *) c + k->offset;

        switch (k->type) {
        case CONFIG_STRING: {
                char *s = strdup(value);
                if (!s)
                        return -ENOMEM;
                free(*(char **) field);
                *(char **) field = s;
                return 0;
        }
        case CONFIG_UINT:
                return parse_uint(value, field);
        case CONFIG_SIZE:
                return parse_size(value, field);
        case CONFIG_SECONDS:
                return parse_seconds(value, field);
        case CONFIG_NETLIST:
                if (isempty(value)) {
                        netlist_clear(field);
                        return 0;
                }
                return netlist_append(field, value);
        case CONFIG_IDLIST:
                if (isempty(value)) {
                        idlist_clear(field);
                        return 0;
                }
                return idlist_append(field, value);
        case CONFIG_BOOL:
                return parse_bool(value, field);
        }
        return -EINVAL;
}

typedef struct ParseState {
        Config *config;
        const char *path;
        int error;
} ParseState;

static int handler(void *userdata, const char *section, const char *name, const char *value) {
        ParseState *st = userdata;

        for (const ConfigKey *k = keys; k->item.section; k++) {
                if (!streq(k->item.section, section) || !streq(k->item.key, name))
                        continue;
                int r = assign(st->config, k, value);
                if (r < 0) {
                        /* The configuration holds no secret: the value is shown as written. */
                        log_error_errno(r, "%s: [%s] %s=%.80s: invalid value.", st->path, section, name, value);
                        if (st->error == 0)
                                st->error = r;
                }
                return 1;
        }
        log_warning("%s: unknown setting [%s] %s=, ignoring.", st->path, section, name);
        return 1;
}

static int parse_file(Config *c, const char *path) {
        ParseState st = { .config = c, .path = path };
        FILE *f = fopen(path, "re");
        int r;

        if (!f)
                return -errno;
        r = ini_parse_file(f, handler, &st);
        fclose(f);
        if (r > 0)
                return log_error_errno(EINVAL, "%s:%i: syntax error.", path, r);
        if (r < 0)
                return -EIO;
        return st.error;
}

static int filter_conf(const struct dirent *d) {
        size_t l = strlen(d->d_name);
        return d->d_name[0] != '.' && l > 5 && streq(d->d_name + l - 5, ".conf");
}

static int parse_dropins(Config *c, const char *path) {
        _cleanup_free_ char *dir = NULL;
        struct dirent **list = NULL;
        int n, r = 0;

        if (asprintf(&dir, "%s.d", path) < 0)
                return -ENOMEM;
        n = scandir(dir, &list, filter_conf, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                if (r == 0) {
                        if (asprintf(&p, "%s/%s", dir, list[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = parse_file(c, p);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int config_load(Config *ret, const char *path) {
        Config c = {};
        int r;

        for (const ConfigKey *k = keys; k->item.section; k++) {
                r = assign(&c, k, k->item.default_value);
                if (r < 0)
                        goto fail;
        }
        r = parse_file(&c, path);
        if (r == -ENOENT)
                r = 0;
        if (r < 0) {
                if (r == -EIO || r == -EACCES)
                        log_error_errno(r, "Failed to read %s: %m", path);
                goto fail;
        }
        r = parse_dropins(&c, path);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        config_done(&c);
        return r;
}

void config_done(Config *c) {
        for (const ConfigKey *k = keys; k->item.section; k++) {
                void *field = (char *) c + k->offset;
                if (k->type == CONFIG_STRING)
                        free(*(char **) field);
                else if (k->type == CONFIG_NETLIST)
                        netlist_clear(field);
                else if (k->type == CONFIG_IDLIST)
                        idlist_clear(field);
        }
        *c = (Config) {};
}
