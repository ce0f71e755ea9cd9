/* SPDX-License-Identifier: MIT */
/* Deploy1.AddClient: a client sold in the sales bot, before its payment. The token is checked with
 * getMe, the client recorded pending (tenant_add_pending: the same owner adding the same bot again
 * gets the same client), and the token kept in the store at once, so that nothing the owner handed
 * over is lost if a process restarts before the payment. Nothing is deployed: the payment that
 * succeeds requests that. The token is wiped once stored. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot-api.h"
#include "bus.h"
#include "deploy-bus.h"
#include "json-util.h"
#include "log.h"
#include "tenant.h"
#include "tokens.h"

#define ADD_SQL "SELECT id, bot_username FROM tenant_add_pending($1, $2, $3, $4, $5, $6, $7)"
#define TIME_ZONE_MAX 64
#define ACTOR_MAX 150

typedef struct Adding {
        Deployd *d;
        sd_bus_message *m;
        char token[128];
        char name[TENANT_NAME_MAX_BYTES + 1];
        char time_zone[TIME_ZONE_MAX + 1];
        char actor[ACTOR_MAX + 1];
        int64_t owner;
} Adding;

static void adding_free(Adding *a) {
        explicit_bzero(a->token, sizeof a->token);
        sd_bus_message_unref(a->m);
        free(a);
}

static void reply_error(Adding *a, const char *name, const char *message) {
        (void) sd_bus_reply_method_error(a->m, &SD_BUS_ERROR_MAKE_CONST(name, message));
        adding_free(a);
}

static void on_added(Pg *pg, const PGresult *res, void *userdata) {
        Adding *a = userdata;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        int64_t id;
        int r;

        if (pg_result_to_errno(res) < 0 || PQntuples(res) != 1) {
                if (streq_ptr(state, "23505"))
                        return reply_error(a, DEPLOY_ERROR_BOT_TAKEN, "This bot is already a client's.");
                if (streq_ptr(state, "22023"))
                        return reply_error(a, DEPLOY_ERROR_INVALID, "Unknown time zone.");
                log_warning("Cannot add a pending client: %s", res ? PQresultErrorMessage(res) : "connection lost");
                return reply_error(a, DEPLOY_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
        }
        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        r = token_store(a->d->daemon.config.deploy_token_dir, id, a->token);
        explicit_bzero(a->token, sizeof a->token);
        if (r < 0) {
                /* The client stays pending without a token; the owner's retry finds it again,
                 * and an unpaid one expires. */
                log_error_errno(r, "Cannot store the token of tenant %" PRId64 ": %m", id);
                return reply_error(a, DEPLOY_ERROR_UNAVAILABLE, "Cannot store the token; try again shortly.");
        }
        log_info("Pending client %" PRId64 " (@%s) added by %s.", id, PQgetvalue(res, 0, 1), a->actor);
        (void) sd_bus_reply_method_return(a->m, "xs", id, PQgetvalue(res, 0, 1));
        adding_free(a);
}

static void on_get_me(const BotApiResult *res, void *userdata) {
        Adding *a = userdata;
        Deployd *d = a->d;
        const char *username = json_get_string(res->result, "username");
        char owner[24], bot_id[24], ttl[24];
        int64_t id = 0;

        if (res->error == -EACCES || res->error == -EINVAL)
                return reply_error(a, DEPLOY_ERROR_INVALID_TOKEN, "Telegram does not accept this bot token.");
        if (res->error < 0 || json_get_int64(res->result, "id", &id) < 0 || id <= 0 || isempty(username))
                return reply_error(a, DEPLOY_ERROR_UNAVAILABLE, "Telegram could not be asked about the token; try again shortly.");
        snprintf(owner, sizeof owner, "%" PRId64, a->owner);
        snprintf(bot_id, sizeof bot_id, "%" PRId64, id);
        snprintf(ttl, sizeof ttl, "%" PRIu64, MAX(d->daemon.config.sales_pending_ttl_usec / USEC_PER_SEC, (uint64_t) 1));
        const char *params[] = { a->name, owner, bot_id, username, a->time_zone, ttl, a->actor };
        if (pg_query(d->daemon.pg, ADD_SQL, ELEMENTSOF(params), params, on_added, a) < 0)
                reply_error(a, DEPLOY_ERROR_UNAVAILABLE, "The database is unavailable; try again shortly.");
}

int bus_method_add_client(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Deployd *d = userdata;
        const char *token, *name, *time_zone, *actor;
        char clean[TENANT_NAME_MAX_BYTES + 1];
        int64_t owner;
        Adding *a;
        int r;

        r = sd_bus_message_read(m, "sxsss", &token, &owner, &name, &time_zone, &actor);
        if (r < 0)
                return r;
        if (!bot_token_valid(token))
                return sd_bus_error_setf(error, DEPLOY_ERROR_INVALID_TOKEN, "This is not a bot token.");
        if (owner <= 0 || tenant_name_clean(name, clean, sizeof clean) < 0 || isempty(time_zone) ||
            strlen(time_zone) > TIME_ZONE_MAX || isempty(actor) || strlen(actor) > ACTOR_MAX)
                return sd_bus_error_setf(error, DEPLOY_ERROR_INVALID,
                                         "An owner id > 0, a name of 1 to 100 characters, a time zone and an actor.");
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        *a = (Adding) { .d = d, .m = sd_bus_message_ref(m), .owner = owner };
        snprintf(a->token, sizeof a->token, "%s", token);
        snprintf(a->name, sizeof a->name, "%s", clean);
        snprintf(a->time_zone, sizeof a->time_zone, "%s", time_zone);
        snprintf(a->actor, sizeof a->actor, "%s", actor);
        r = bot_api_call(d->daemon.http, d->daemon.config.telegram_url, a->token, "getMe", NULL, on_get_me, a);
        if (r < 0) {
                adding_free(a);
                return sd_bus_error_setf(error, DEPLOY_ERROR_UNAVAILABLE, "Telegram could not be asked about the token.");
        }
        return 1;
}
