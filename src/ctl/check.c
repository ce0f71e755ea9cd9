/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <stdio.h>

#include "creds.h"
#include "ctl.h"
#include "heleket-sign.h"
#include "json-util.h"
#include "log.h"
#include "pg.h"
#include "redis.h"

#define CHECK_TIMEOUT_SEC 5

typedef enum CheckResult { CHECK_OK, CHECK_FAILED, CHECK_SKIPPED } CheckResult;

static void report(const char *what, CheckResult r, const char *detail) {
        static const char *const words[] = { "ok", "FAILED", "skipped" };
        printf("%-12s %-8s %s\n", what, words[r], detail);
}

static CheckResult check_postgresql(const Config *c, char *detail, size_t size) {
        _cleanup_(PQfinishp) PGconn *conn = NULL;
        _cleanup_(PQclearp) PGresult *res = NULL;
        const char *keys[] = { "dbname", "connect_timeout", NULL };
        const char *vals[] = { c->database_url, "5", NULL };

        conn = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(conn) != CONNECTION_OK) {
                snprintf(detail, size, "%s", PQerrorMessage(conn));
                detail[strcspn(detail, "\n")] = 0;
                return CHECK_FAILED;
        }
        res = PQexec(conn, "SELECT current_setting('server_version'), "
                           "(SELECT max(version) FROM schema_migrations) "
                           "WHERE to_regclass('schema_migrations') IS NOT NULL "
                           "UNION ALL SELECT current_setting('server_version'), NULL "
                           "WHERE to_regclass('schema_migrations') IS NULL");
        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1) {
                snprintf(detail, size, "query failed: %s", PQerrorMessage(conn));
                detail[strcspn(detail, "\n")] = 0;
                return CHECK_FAILED;
        }
        snprintf(detail, size, "PostgreSQL %s, schema version %s", PQgetvalue(res, 0, 0),
                 PQgetisnull(res, 0, 1) ? "none (run tgfleetctl migrate)" : PQgetvalue(res, 0, 1));
        return CHECK_OK;
}

static void redisFreep(redisContext **c) {
        if (*c)
                redisFree(*c);
}

static void freeReplyp(redisReply **r) {
        if (*r)
                freeReplyObject(*r);
}

static CheckResult check_redis(const Config *c, char *detail, size_t size) {
        _cleanup_(redisFreep) redisContext *ctx = NULL;
        _cleanup_(freeReplyp) redisReply *info = NULL;
        _cleanup_(secret_freep) Secret *password = NULL;
        struct timeval tv = { CHECK_TIMEOUT_SEC, 0 };
        RedisAddress a;
        const char *ver, *aof;

        if (redis_address_parse(c->redis_url, &a) < 0) {
                snprintf(detail, size, "invalid [Redis] URL=");
                return CHECK_FAILED;
        }
        ctx = a.path ? redisConnectUnixWithTimeout(a.path, tv) : redisConnectWithTimeout(a.host, (int) a.port, tv);
        redis_address_done(&a);
        if (!ctx || ctx->err) {
                snprintf(detail, size, "%s", ctx ? ctx->errstr : "out of memory");
                return CHECK_FAILED;
        }
        (void) redisSetTimeout(ctx, tv);
        if (creds_read_admin("redis-password", 4096, &password) >= 0) {
                _cleanup_(freeReplyp) redisReply *auth = redisCommand(ctx, "AUTH %b", password->data, password->size);
                if (!auth || auth->type == REDIS_REPLY_ERROR) {
                        snprintf(detail, size, "AUTH refused");
                        return CHECK_FAILED;
                }
        }
        info = redisCommand(ctx, "INFO");
        if (!info || info->type != REDIS_REPLY_STRING) {
                snprintf(detail, size, "%s", info && info->type == REDIS_REPLY_ERROR ? info->str : "no answer to INFO");
                return CHECK_FAILED;
        }
        ver = strstr(info->str, "redis_version:");
        aof = strstr(info->str, "aof_enabled:");
        snprintf(detail, size, "Redis %.*s, AOF %s", ver ? (int) strcspn(ver + 14, "\r\n") : 1, ver ? ver + 14 : "?",
                 aof && aof[12] == '1' ? "on" : "OFF (accepted webhooks are not durable)");
        return CHECK_OK;
}

static size_t discard(char *ptr, size_t size, size_t n, void *userdata) {
        (void) ptr, (void) userdata;
        return size * n;
}

/* One HTTPS request; returns the HTTP status, or -EHOSTUNREACH with curl's words in @detail. */
static long http_status(const char *url, struct curl_slist *headers, const char *userpwd, const char *body,
                        char *detail, size_t size) {
        CURL *h = curl_easy_init();
        long status = 0;
        CURLcode cr;

        if (!h)
                return -ENOMEM;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long) CHECK_TIMEOUT_SEC);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        if (headers)
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        if (userpwd)
                curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
        if (body)
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        cr = curl_easy_perform(h);
        if (cr == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        else
                snprintf(detail, size, "%s", curl_easy_strerror(cr));
        curl_easy_cleanup(h);
        return cr == CURLE_OK ? status : -EHOSTUNREACH;
}

static CheckResult check_heleket(const Config *c, char *detail, size_t size) {
        _cleanup_(secret_freep) Secret *key = NULL;
        char sign[HELEKET_SIGN_SIZE], url[512], h1[256], h2[64];
        struct curl_slist *headers = NULL;
        long status;

        if (isempty(c->heleket_merchant) || creds_read_admin("heleket-api-key", 4096, &key) < 0) {
                snprintf(detail, size, "needs [Heleket] Merchant= and the heleket-api-key credential");
                return CHECK_SKIPPED;
        }
        /* A signed call with an empty body ({}): proves reachability and the key. */
        if (heleket_sign("{}", 2, key->data, key->size, sign) < 0)
                return CHECK_FAILED;
        snprintf(url, sizeof url, "%s/v1/payment/services", c->heleket_url);
        snprintf(h1, sizeof h1, "merchant: %s", c->heleket_merchant);
        snprintf(h2, sizeof h2, "sign: %s", sign);
        headers = curl_slist_append(headers, h1);
        headers = curl_slist_append(headers, h2);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        status = http_status(url, headers, NULL, "{}", detail, size);
        curl_slist_free_all(headers);
        if (status < 0)
                return CHECK_FAILED;
        snprintf(detail, size, "%s answered HTTP %ld%s", c->heleket_url, status,
                 status == 200 ? "" : status == 401 || status == 403 ? " (key or merchant refused)" : "");
        return status == 200 ? CHECK_OK : CHECK_FAILED;
}

static CheckResult check_yookassa(const Config *c, char *detail, size_t size) {
        _cleanup_(secret_freep) Secret *key = NULL;
        _cleanup_free_ char *userpwd = NULL;
        char url[512];
        long status;

        if (isempty(c->yookassa_shop_id) || creds_read_admin("yookassa-secret-key", 4096, &key) < 0) {
                snprintf(detail, size, "needs [YooKassa] ShopId= and the yookassa-secret-key credential");
                return CHECK_SKIPPED;
        }
        if (asprintf(&userpwd, "%s:%s", c->yookassa_shop_id, key->data) < 0)
                return CHECK_FAILED;
        snprintf(url, sizeof url, "%s/v3/me", c->yookassa_url);
        status = http_status(url, NULL, userpwd, NULL, detail, size);
        explicit_bzero(userpwd, strlen(userpwd));
        if (status < 0)
                return CHECK_FAILED;
        snprintf(detail, size, "%s answered HTTP %ld%s", c->yookassa_url, status,
                 status == 401 ? " (shop id or key refused)" : "");
        return status == 200 ? CHECK_OK : CHECK_FAILED;
}

const char check_usage[] =
        "Usage: tgfleetctl check-connections\n"
        "Checks PostgreSQL, Redis, Heleket, YooKassa and the platform bots' tokens (getMe) with the\n"
        "configuration and credentials given.\n";

/* The token of the platform bot @bot: getMe answers with the bot it is. */
static CheckResult check_bot(const Config *c, const char *bot, char *detail, size_t size) {
        _cleanup_(secret_freep) Secret *token = NULL;
        json_object *answer = NULL, *result = NULL;
        char name[96];
        long status;

        snprintf(name, sizeof name, "bot-token-%s", strempty(bot));
        if (isempty(bot) || creds_read_admin(name, 256, &token) < 0) {
                snprintf(detail, size, "no %s credential", name);
                return CHECK_SKIPPED;
        }
        status = ctl_telegram_call(c, token, "getMe", NULL, NULL, &answer);
        if (status == 200 && json_object_object_get_ex(answer, "result", &result))
                snprintf(detail, size, "%s is @%s", name, strempty(json_get_string(result, "username")));
        else if (status == 401 || status == 404)
                snprintf(detail, size, "Telegram does not accept %s (HTTP %ld): a revoked or mistyped token", name,
                         status);
        else if (status < 0)
                snprintf(detail, size, "%s unreachable", c->telegram_url);
        else
                snprintf(detail, size, "%s answered HTTP %ld", c->telegram_url, status);
        json_object_put(answer);
        return status == 200 && result ? CHECK_OK : CHECK_FAILED;
}

static CheckResult check_shop_bot(const Config *c, char *detail, size_t size) {
        return check_bot(c, c->shop_bot, detail, size);
}

static CheckResult check_master_bot(const Config *c, char *detail, size_t size) {
        return check_bot(c, c->master_bot, detail, size);
}

int verb_check_connections(const Config *c, int argc, char *argv[]) {
        static const struct {
                const char *name;
                CheckResult (*fn)(const Config *, char *, size_t);
        } checks[] = {
                { "postgresql", check_postgresql },
                { "redis", check_redis },
                { "heleket", check_heleket },
                { "yookassa", check_yookassa },
                { "shop-bot", check_shop_bot },
                { "master-bot", check_master_bot },
        };
        bool failed = false;
        (void) argv;

        if (argc > 1) {
                fputs(check_usage, stderr);
                return 2;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                char detail[512] = "";
                CheckResult r = checks[i].fn(c, detail, sizeof detail);
                report(checks[i].name, r, detail);
                failed = failed || r == CHECK_FAILED;
        }
        curl_global_cleanup();
        return failed ? 1 : 0;
}
