/* SPDX-License-Identifier: MIT */
/* /api/clients: tenants (businesses with their own bot). Adding one checks its token with getMe,
 * records it (tenant_add), hands the token to tgfleet-deployd (Deploy1.StoreToken) and queues
 * its deploy. Actions (suspend, resume, redeploy, remove) are checked against the tenant's status
 * in the database (tenant_request), then queued; the deploy worker records their outcome. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bot-api.h"
#include "deploy-bus.h"
#include "json-util.h"
#include "log.h"
#include "request.h"

#define NAME_MAX_CHARS 100
#define DAYS_MAX 3650
#define PAGE_MAX 100
#define PAGE_DEFAULT 20
#define IDEMPOTENCY_KEY_MAX 200

#define LIST_SQL \
        "WITH f AS (SELECT * FROM tenants" \
        "           WHERE (CASE WHEN $1::tenant_status IS NULL THEN status <> 'removed' ELSE status = $1::tenant_status END)" \
        "             AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0 OR strpos(lower(bot_username), lower($2)) > 0)" \
        "             AND ($3::bigint IS NULL OR owner_id = $3::bigint))" \
        "SELECT jsonb_build_object(" \
        "  'items', coalesce((SELECT jsonb_agg(tenant_json(p) ORDER BY p.id)" \
        "                     FROM (SELECT * FROM f ORDER BY id LIMIT $4::int OFFSET $5::int) p), '[]')," \
        "  'total', (SELECT count(*) FROM f), 'limit', $4::int, 'offset', $5::int)"
#define GET_SQL \
        "SELECT tenant_json(t) || jsonb_build_object('audit', coalesce((" \
        "  SELECT jsonb_agg(jsonb_build_object('at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
        "                                      'actor', a.actor, 'action', a.action, 'detail', a.detail) ORDER BY a.id DESC)" \
        "  FROM (SELECT * FROM tenant_audit WHERE tenant_id = t.id ORDER BY id DESC LIMIT 20) a), '[]')," \
        "  'payments', coalesce((SELECT jsonb_agg(subscription_payment_json(s) ORDER BY s.created_at DESC, s.id DESC)" \
        "  FROM (SELECT * FROM subscription_payments WHERE tenant_id = t.id ORDER BY created_at DESC, id DESC LIMIT 5) s), '[]'))" \
        "FROM tenants t WHERE t.id = $1"
#define ADD_SQL "SELECT t.id, tenant_json(t) FROM tenant_add($1, $2, $3, $4, $5, $6) t"
#define REQUEST_SQL "SELECT t.id, tenant_json(t) FROM tenant_request($1, $2, $3) t"
#define STATUS_SQL "SELECT 1 FROM tenant_set_status($1, $2::tenant_status, $3, $4)"
#define EXTEND_SQL "SELECT tenant_json(t) FROM tenant_extend($1, $2, $3, $4) t"

static const char *const statuses[] = { "pending", "deploying", "active", "suspended", "failed", "removed" };

/* --- list and get ------------------------------------------------------------------------------- */

void clients_list(Request *q) {
        const char *status, *search = request_arg(q, "q");
        char owner_s[24], limit_s[24], offset_s[24];
        int64_t owner, limit, offset;

        if (!request_enum_arg(q, "status", statuses, ELEMENTSOF(statuses), &status))
                return;
        if (search && (strlen(search) > NAME_MAX_CHARS * 4))
                return request_reply_error(q, 400, "bad_request", "q is too long.");
        if (!request_int_arg(q, "owner_id", 1, INT64_MAX, 0, &owner) || !request_int_arg(q, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) ||
            !request_int_arg(q, "offset", 0, INT32_MAX, 0, &offset))
                return;
        snprintf(owner_s, sizeof owner_s, "%" PRId64, owner);
        snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
        snprintf(offset_s, sizeof offset_s, "%" PRId64, offset);
        const char *params[] = { status, isempty(search) ? NULL : search, owner > 0 ? owner_s : NULL, limit_s, offset_s };
        (void) request_query_json(q, 200, LIST_SQL, ELEMENTSOF(params), params);
}

void clients_get(Request *q, int64_t id) {
        char id_s[24];
        const char *params[] = { id_s };

        snprintf(id_s, sizeof id_s, "%" PRId64, id);
        (void) request_query_json(q, 200, GET_SQL, 1, params);
}

/* --- adding a client ---------------------------------------------------------------------------- */

static void on_marked(Pg *pg, const PGresult *res, void *userdata) {
        if (pg_result_to_errno(res) < 0)
                log_error("Cannot record the failure of a request for client %s: %s", (const char *) userdata,
                          res ? PQresultErrorMessage(res) : "not connected");
        free(userdata);
}

/* Records that a request for @tenant failed half-way: @status "removed" for a new client whose
 * deploy was not requested (the bot may be added again), "failed" for a deploy not queued. */
static void mark(Request *q, const char *tenant, const char *status, const char *why) {
        const char *params[] = { tenant, status, q->actor, why };
        char *t = strdup(tenant);

        if (!t || pg_query(q->apid->daemon.pg, STATUS_SQL, 4, params, on_marked, t) < 0) {
                log_error("Cannot record the failure of a request for client %s.", tenant);
                free(t);
        }
}

static json_object *task_object(const char *task, uint32_t position) {
        json_object *t = json_object_new_object();

        json_object_object_add(t, "id", json_object_new_string(task));
        json_object_object_add(t, "position", json_object_new_int64(position));
        return t;
}

/* The answer to a queued action: the client as it is now and its task. */
static void reply_queued(Request *q, unsigned status, json_object *client, sd_bus_message *m) {
        const char *task;
        uint32_t position;
        json_object *o;

        if (sd_bus_message_read(m, "su", &task, &position) < 0)
                return request_reply_error(q, 503, "deployd_unavailable", "The deploy worker answered nonsense.");
        o = json_object_new_object();
        json_object_object_add(o, "client", json_object_get(client));
        json_object_object_add(o, "task", task_object(task, position));
        q->apid->stats.deploys_queued++;
        request_reply_object(q, status, o);
}

/* --- queuing an action --------------------------------------------------------------------------- */

/* An action on a client: checked and recorded by tenant_request(), then queued for deployd. */
typedef struct Acting {
        char tenant[24];
        char action[16];
        unsigned ok_status;         /* 202, or 201 for a new client's deploy */
        bool new_client;            /* refused: the client is marked removed, it may be added again */
        json_object *client;        /* as tenant_request() left it */
} Acting;

static void acting_free(void *p) {
        Acting *a = p;

        if (a)
                json_object_put(a->client);
        free(a);
}

/* A deploy, resume or redeploy not queued left its client "deploying" with no task: say it failed. */
static void not_queued(Request *q, Acting *a) {
        if (!streq(a->action, "suspend") && !streq(a->action, "remove"))
                mark(q, a->tenant, "failed", "enqueue_failed");
}

static void refused(Request *q, Acting *a) {
        if (a->new_client)
                mark(q, a->tenant, "removed", "add_failed");
}

static int on_action_queued(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *q = userdata;
        Acting *a = q->handler_data;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                not_queued(q, a);
                request_reply_bus_error(q, e);
                return 0;
        }
        reply_queued(q, a->ok_status, a->client, m);
        return 0;
}

static void on_requested(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;
        Acting *a = q->handler_data;
        int r;

        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1) {
                refused(q, a);
                return request_reply_pg_error(q, res);
        }
        (void) json_parse(PQgetvalue(res, 0, 1), (size_t) PQgetlength(res, 0, 1), &a->client);
        r = sd_bus_call_method_async(q->apid->daemon.bus, NULL, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE,
                                     "Enqueue", on_action_queued, q, "xss", (int64_t) strtoll(a->tenant, NULL, 10),
                                     a->action, q->actor);
        if (r < 0) {
                not_queued(q, a);
                request_reply_deployd_down(q);
        }
}

/* Asks tenant_request() for @a (the request's handler data), then queues it. */
static void request_action(Request *q, Acting *a) {
        const char *params[] = { a->tenant, a->action, q->actor };

        if (pg_query(q->apid->daemon.pg, REQUEST_SQL, 3, params, on_requested, q) < 0) {
                refused(q, a);
                request_reply_db_down(q);
        }
}

/* --- adding a client ---------------------------------------------------------------------------- */

typedef struct Adding {
        Acting acting;              /* first: the deploy is an action like the others */
        char token[128];
        char name[NAME_MAX_CHARS * 4 + 1];
        char time_zone[64];
        int64_t owner;
} Adding;

static void adding_free(void *p) {
        Adding *a = p;

        if (!a)
                return;
        json_object_put(a->acting.client);
        explicit_bzero(a->token, sizeof a->token);
        free(a);
}

static int on_token_stored(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Request *q = userdata;
        Adding *a = q->handler_data;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        explicit_bzero(a->token, sizeof a->token);
        if (e) {
                refused(q, &a->acting);
                request_reply_bus_error(q, e);
                return 0;
        }
        request_action(q, &a->acting);
        return 0;
}

static void on_added(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;
        Adding *a = q->handler_data;
        int r;

        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1)
                return request_reply_pg_error(q, res);
        snprintf(a->acting.tenant, sizeof a->acting.tenant, "%s", PQgetvalue(res, 0, 0));
        log_info("Client %s added by %s.", a->acting.tenant, q->actor);
        r = sd_bus_call_method_async(q->apid->daemon.bus, NULL, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE,
                                     "StoreToken", on_token_stored, q, "xs",
                                     (int64_t) strtoll(a->acting.tenant, NULL, 10), a->token);
        if (r < 0) {
                refused(q, &a->acting);
                request_reply_deployd_down(q);
        }
}

static void on_get_me(const BotApiResult *res, void *userdata) {
        Request *q = userdata;
        Adding *a = q->handler_data;
        char owner[24], bot_id[24];
        const char *username;
        int64_t id;

        if (res->error == -EACCES || res->error == -EINVAL)
                return request_reply_error(q, 422, "invalid_token", "Telegram does not accept this bot token.");
        if (res->error < 0)
                return request_reply_error(q, 503, "telegram_unavailable",
                                           "Telegram could not be asked about the token; try again shortly.");
        username = json_get_string(res->result, "username");
        if (json_get_int64(res->result, "id", &id) < 0 || id <= 0 || isempty(username))
                return request_reply_error(q, 503, "telegram_unavailable", "Telegram's getMe answer has no bot id or username.");
        snprintf(owner, sizeof owner, "%" PRId64, a->owner);
        snprintf(bot_id, sizeof bot_id, "%" PRId64, id);
        const char *params[] = { a->name, owner, bot_id, username, a->time_zone, q->actor };
        if (pg_query(q->apid->daemon.pg, ADD_SQL, ELEMENTSOF(params), params, on_added, q) < 0)
                request_reply_db_down(q);
}

/* Copies the string member @key of @body into @buf; absent: @def (NULL: required). False after
 * answering 422. */
/* The body of an add holds the token: wiped before json-c frees it. */
static void wiped_body_putp(json_object **o) {
        json_wipe_string(*o, "token");
        json_object_put(*o);
}

static bool string_field(Request *q, json_object *body, const char *key, const char *def, size_t max_chars,
                         char *buf, size_t size) {
        json_object *v;
        const char *s;
        size_t chars = 0;

        if (!json_object_object_get_ex(body, key, &v) || json_object_is_type(v, json_type_null)) {
                if (!def) {
                        request_reply_error(q, 422, "invalid_field", "%s is required.", key);
                        return false;
                }
                snprintf(buf, size, "%s", def);
                return true;
        }
        if (!json_object_is_type(v, json_type_string)) {
                request_reply_error(q, 422, "invalid_field", "%s must be a string.", key);
                return false;
        }
        s = json_object_get_string(v);
        for (const char *p = s; *p; p++)
                chars += ((unsigned char) *p & 0xC0) != 0x80;
        if (strspn(s, " \t\n") == strlen(s) || chars > max_chars || strlen(s) >= size) {
                request_reply_error(q, 422, "invalid_field", "%s must have 1 to %zu characters.", key, max_chars);
                return false;
        }
        strcpy(buf, s);
        return true;
}

void clients_create(Request *q) {
        _cleanup_(wiped_body_putp) json_object *body = request_json_body(q);
        Adding *a;
        json_object *v;
        int r;

        if (!body)
                return;
        a = calloc(1, sizeof *a);
        if (!a)
                return request_reply_error(q, 503, "out_of_memory", "Out of memory.");
        q->handler_data = a;
        q->free_handler_data = adding_free;
        a->acting = (Acting) { .action = "deploy", .ok_status = 201, .new_client = true };
        if (!string_field(q, body, "token", NULL, sizeof a->token - 1, a->token, sizeof a->token) ||
            !string_field(q, body, "name", NULL, NAME_MAX_CHARS, a->name, sizeof a->name) ||
            !string_field(q, body, "time_zone", "Europe/Moscow", sizeof a->time_zone - 1, a->time_zone, sizeof a->time_zone))
                return;
        /* json-c saturates larger numbers at INT64_MAX: refused with them. */
        if (!json_object_object_get_ex(body, "owner_id", &v) || !json_object_is_type(v, json_type_int) ||
            (a->owner = json_object_get_int64(v)) <= 0 || a->owner == INT64_MAX)
                return request_reply_error(q, 422, "invalid_field", "owner_id must be the owner's Telegram user id (a positive integer).");
        if (!bot_token_valid(a->token))
                return request_reply_error(q, 422, "invalid_token", "This is not a bot token (\"<bot id>:<secret>\" from @BotFather).");
        r = bot_api_call(q->apid->daemon.http, q->apid->daemon.config.telegram_url, a->token, "getMe", NULL, on_get_me, q);
        if (r < 0)
                request_reply_error(q, 503, "telegram_unavailable", "Telegram could not be asked about the token.");
}

/* --- extend ------------------------------------------------------------------------------------- */

static void on_extended(Pg *pg, const PGresult *res, void *userdata) {
        Request *q = userdata;

        if (pg_result_to_errno(res) >= 0 && PQntuples(res) == 1)
                return request_reply_json(q, 200, PQgetvalue(res, 0, 0));
        if (streq_ptr(PQresultErrorField(res, PG_DIAG_SQLSTATE), "22023") ||
            streq_ptr(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505"))
                return request_reply_error(q, 409, "idempotency_conflict",
                                           "This Idempotency-Key was used for another request.");
        request_reply_pg_error(q, res);
}

void clients_extend(Request *q, int64_t id) {
        _cleanup_(json_object_putp) json_object *body = request_json_body(q);
        const char *key = request_header(q, "Idempotency-Key");
        char id_s[24], days_s[16], random_key[40];
        json_object *v;
        int64_t days;

        if (!body)
                return;
        if (!json_object_object_get_ex(body, "days", &v) || !json_object_is_type(v, json_type_int) ||
            (days = json_object_get_int64(v)) < 1 || days > DAYS_MAX)
                return request_reply_error(q, 422, "invalid_field", "days must be an integer from 1 to %d.", DAYS_MAX);
        if (key && (strlen(key) == 0 || strlen(key) > IDEMPOTENCY_KEY_MAX))
                return request_reply_error(q, 400, "bad_request", "Idempotency-Key must have 1 to %d characters.",
                                           IDEMPOTENCY_KEY_MAX);
        if (!key) {
                /* Without a key every request is its own. */
                uint8_t b[16];
                if (getrandom(b, sizeof b, 0) != sizeof b)
                        return request_reply_error(q, 503, "unavailable", "No randomness for a key.");
                for (size_t i = 0; i < sizeof b; i++)
                        snprintf(random_key + 2 * i, 3, "%02x", b[i]);
                key = random_key;
        }
        snprintf(id_s, sizeof id_s, "%" PRId64, id);
        snprintf(days_s, sizeof days_s, "%" PRId64, days);
        const char *params[] = { id_s, days_s, key, q->actor };
        if (pg_query(q->apid->daemon.pg, EXTEND_SQL, 4, params, on_extended, q) < 0)
                request_reply_db_down(q);
}

/* --- suspend, resume, redeploy, remove ------------------------------------------------------------ */

void clients_action(Request *q, int64_t id, const char *action) {
        Acting *a = calloc(1, sizeof *a);

        if (!a)
                return request_reply_error(q, 503, "out_of_memory", "Out of memory.");
        q->handler_data = a;
        q->free_handler_data = acting_free;
        a->ok_status = 202;
        snprintf(a->tenant, sizeof a->tenant, "%" PRId64, id);
        snprintf(a->action, sizeof a->action, "%s", action);
        request_action(q, a);
}
