/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "bot-api.h"
#include "deploy-bus.h"
#include "json-util.h"
#include "log-fields.h"
#include "notify.h"
#include "queue.h"
#include "stream-reader.h"
#include "tenant.h"
#include "tokens.h"
#include "units.h"
#include "webhook-secret.h"
#include "worker.h"

#define TENANT_SQL "SELECT name, owner_id, bot_username, time_zone FROM tenants WHERE id = $1 AND status <> 'removed'"
#define STATUS_SQL "SELECT status::text FROM tenant_set_status($1, $2::tenant_status, $3, $4)"

struct Worker {
        Deployd *d;
        StreamReader *reader;
};

/* One task being run: its steps call each other through callbacks, in order. */
typedef struct Run {
        StreamEntry entry;       /* its entry on the stream "deploy" */
        Worker *w;
        Task task;
        Secret *token;
        bool found;              /* the tenant exists and is not removed */
        char name[128];
        int64_t owner;
        char bot_username[64];
        char bot[BOT_NAME_MAX + 1];
        char unit[96];
        char tenant_id[24];      /* for TENANT= in the journal */
} Run;

static void run_free(StreamEntry *e) {
        Run *run = container_of(e, Run, entry);

        secret_free(run->token);
        free(run);
}

/* Ends the run: its entry with @outcome, and the run itself. */
static void run_end(Run *run, StreamOutcome outcome) {
        stream_reader_done(run->w->reader, &run->entry, outcome);
}

static void finish(Run *run, bool dead, const char *error);

/* --- notifications ------------------------------------------------------------------------------ */

static void tell_operators(Deployd *d, const char *text) {
        notify_operators(d->daemon.redis, &d->daemon.config, text);
}

/* A client the sales bot sold (its task's actor is "subscription"): its owner hears through the
 * sales bot when its bot is up, or could not be brought up. */
static void tell_owner(Run *run, bool failed) {
        Deployd *d = run->w->d;
        const Task *t = &run->task;
        char event[48], user[24];

        if (!streq(t->actor, DEPLOY_ACTOR_SUBSCRIPTION) || !run->found || run->owner <= 0 ||
            !(t->action == TASK_DEPLOY || t->action == TASK_RESUME))
                return;
        snprintf(event, sizeof event, "task:%s", t->id);
        snprintf(user, sizeof user, "%" PRId64, run->owner);
        const char *fields[] = {
                "event", event, "type", failed ? "client.failed" : "client.live", "user", user,
                "client", run->tenant_id, "action", task_action_to_string(t->action), "name", run->name,
                "bot_username", run->bot_username,
        };
        (void) notify_event(d->daemon.redis, d->daemon.config.sales_bot, fields, ELEMENTSOF(fields) / 2);
}

/* --- ending a task -------------------------------------------------------------------------------- */

static void on_ended(int error, void *userdata) {
        Run *run = userdata;

        /* The script acknowledged the entry with the task's new state; on a Redis failure the
         * entry stays pending and the task runs again, harmlessly. */
        run_end(run, error < 0 ? STREAM_RETRY : STREAM_ACKED);
}

static void on_failed_status(Pg *pg, const PGresult *res, void *userdata) {
        if (pg_result_to_errno(res) < 0)
                log_warning("Could not mark a tenant failed: %s", res ? PQresultErrorMessage(res) : "connection lost");
}

static void finish(Run *run, bool dead, const char *error) {
        Deployd *d = run->w->d;
        const Task *t = &run->task;
        const char *action = task_action_to_string(t->action);
        char text[768];
        int r;

        if (d->daemon.stopping) {
                /* Cut short by a shutdown: the entry stays pending and the task runs again. */
                return run_end(run, STREAM_RETRY);
        }
        if (!error) {
                d->stats.done++;
                log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_TENANT(run->tenant_id)), "Task %s: %s of tenant %" PRId64 " done.",
                           t->id, action, t->tenant);
                tell_owner(run, false);
                r = queue_mark_ended(d, t, false, NULL, on_ended, run);
        } else if (dead || t->attempts >= d->daemon.config.deploy_max_attempts) {
                d->stats.dead++;
                log_struct(LOG_ERR, 0, LOG_FIELDS(LOG_TENANT(run->tenant_id), LOG_MESSAGE_ID(MSGID_DEPLOY_DEAD)),
                           "Task %s: %s of tenant %" PRId64 " failed after %u attempt(s), dead-lettered: %s", t->id,
                           action, t->tenant, t->attempts, error);
                if (run->found && (t->action == TASK_DEPLOY || t->action == TASK_RESUME || t->action == TASK_REDEPLOY)) {
                        char id[24];
                        const char *params[] = { id, "failed", d->actor, "deploy_failed" };
                        snprintf(id, sizeof id, "%" PRId64, t->tenant);
                        (void) pg_query(d->daemon.pg, STATUS_SQL, 4, params, on_failed_status, NULL);
                }
                snprintf(text, sizeof text, "❌ Task %s (%s of client #%" PRId64 ") failed and is dead-lettered: %s\n"
                         "Retry it from /queue once the cause is fixed.", t->id, action, t->tenant, error);
                tell_operators(d, text);
                tell_owner(run, true);
                r = queue_mark_ended(d, t, true, error, on_ended, run);
        } else {
                uint64_t delay = MIN(d->daemon.config.deploy_retry_usec << MIN(t->attempts - 1, 20u),
                                     d->daemon.config.deploy_retry_max_usec);
                d->stats.retried++;
                log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_TENANT(run->tenant_id)),
                           "Task %s: %s of tenant %" PRId64 " failed (attempt %u), retrying in %" PRIu64 " s: %s",
                           t->id, action, t->tenant, t->attempts, delay / USEC_PER_SEC, error);
                r = queue_mark_retrying(d, t, error, now_ms() + (int64_t) (delay / USEC_PER_MSEC), on_ended, run);
        }
        if (r < 0)
                on_ended(r, run);
}

/* --- the steps ------------------------------------------------------------------------------------ */

static void on_status_set(Pg *pg, const PGresult *res, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;
        char text[512];

        if (pg_result_to_errno(res) < 0) {
                /* A tenant removed meanwhile (P0002) has nothing left to record. */
                const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
                if (!streq_ptr(state, "P0002"))
                        return finish(run, false, "cannot record the tenant's status in the database");
        }
        switch (run->task.action) {
        case TASK_DEPLOY:
        case TASK_RESUME:
        case TASK_REDEPLOY:
                snprintf(text, sizeof text, "✅ Client #%" PRId64 " «%s»: bot @%s is live.", run->task.tenant, run->name,
                         run->bot_username);
                tell_operators(d, text);
                snprintf(text, sizeof text, "✅ Your bot @%s is live.", run->bot_username);
                (void) notify_chat(d->daemon.redis, run->bot, run->owner, text);
                break;
        case TASK_SUSPEND:
                snprintf(text, sizeof text, "⏸ Client #%" PRId64 " «%s»: bot @%s is stopped.", run->task.tenant,
                         run->name, run->bot_username);
                tell_operators(d, text);
                break;
        case TASK_REMOVE:
                snprintf(text, sizeof text, "🗑 Client #%" PRId64 " «%s»: bot @%s is removed.", run->task.tenant,
                         run->name, run->bot_username);
                tell_operators(d, text);
                break;
        default:
                break;
        }
        finish(run, false, NULL);
}

static void set_status(Run *run, const char *status) {
        Deployd *d = run->w->d;
        char id[24];
        const char *params[] = { id, status, d->actor, task_action_to_string(run->task.action) };

        snprintf(id, sizeof id, "%" PRId64, run->task.tenant);
        if (pg_query(d->daemon.pg, STATUS_SQL, 4, params, on_status_set, run) < 0)
                finish(run, false, "the database is not reachable");
}

static void after_stop(Run *run);

static void on_webhook_deleted(const BotApiResult *r, void *userdata) {
        Run *run = userdata;

        /* A revoked token has no webhook left to delete. */
        if (r->error < 0 && r->error != -EACCES)
                return finish(run, false, "deleteWebhook failed; Telegram may still send updates");
        after_stop(run);
}

static void after_stop(Run *run) {
        Deployd *d = run->w->d;

        if (run->task.action == TASK_SUSPEND)
                return set_status(run, "suspended");
        /* remove: the token and the bot's profile go too. */
        RedisName key = redis_key_tenant(run->task.tenant);
        int r = token_remove(d->daemon.config.deploy_token_dir, run->task.tenant);
        if (r < 0)
                return finish(run, false, "cannot delete the tenant's token file");
        (void) redis_command_argv(d->daemon.redis, NULL, NULL, 2, (const char *[]) { "DEL", key.s }, NULL);
        set_status(run, "removed");
}

static void on_stopped(int error, const char *what, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;
        char msg[600];
        int r;

        if (error < 0) {
                snprintf(msg, sizeof msg, "stopping %s: %s", run->unit, what);
                return finish(run, false, msg);
        }
        if (!run->token)
                return after_stop(run);
        r = bot_api_call(d->daemon.http, d->daemon.config.telegram_url, run->token->data, "deleteWebhook", NULL, on_webhook_deleted,
                         run);
        if (r < 0)
                after_stop(run);
}

static void on_started(int error, const char *what, void *userdata) {
        Run *run = userdata;
        char msg[600];

        if (error < 0) {
                snprintf(msg, sizeof msg, "starting %s: %s", run->unit, what);
                return finish(run, false, msg);
        }
        set_status(run, "active");
}

static void on_webhook_set(const BotApiResult *r, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;
        RedisName key;
        char owner[24], msg[600];
        int k;

        if (r->error == -EACCES)
                return finish(run, true, "Telegram refuses the bot's token (revoked?); store a new one");
        if (r->error < 0) {
                snprintf(msg, sizeof msg, "setWebhook failed: %s", r->description ?: strerror(-r->error));
                return finish(run, r->error == -EINVAL, msg);
        }
        /* What the tenant's bot shows, kept where it reads it. */
        key = redis_key_tenant(run->task.tenant);
        snprintf(owner, sizeof owner, "%" PRId64, run->owner);
        const char *argv[] = { "HSET", key.s, "name", run->name, "owner_id", owner, "bot_username", run->bot_username };
        (void) redis_command_argv(d->daemon.redis, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
        k = units_job(d->units, run->task.action == TASK_REDEPLOY ? "RestartUnit" : "StartUnit", run->unit,
                      d->daemon.config.deploy_unit_timeout_usec, on_started, run);
        if (k < 0)
                finish(run, false, "cannot ask systemd to start the unit");
}

static void start_deploy(Run *run) {
        Deployd *d = run->w->d;
        _cleanup_(json_object_putp) json_object *params = json_object_new_object(), *allowed = json_object_new_array();
        _cleanup_free_ char *list = strdup(strempty(d->daemon.config.deploy_allowed_updates));
        char url[512], secret[WEBHOOK_SECRET_SIZE], *save = NULL;
        int r;

        if (!run->token)
                return finish(run, true, "no token is stored for this tenant");
        if (isempty(d->daemon.config.deploy_public_url))
                return finish(run, false, "[Deploy] PublicURL= is not set");
        if (webhook_secret_derive(d->webhook_key, run->bot, secret) < 0)
                return finish(run, false, "cannot derive the webhook secret");
        snprintf(url, sizeof url, "%s/tg/%s", d->daemon.config.deploy_public_url, run->bot);
        for (char *t = list ? strtok_r(list, " \t,", &save) : NULL; t; t = strtok_r(NULL, " \t,", &save))
                json_object_array_add(allowed, json_object_new_string(t));
        json_object_object_add(params, "url", json_object_new_string(url));
        json_object_object_add(params, "secret_token", json_object_new_string(secret));
        json_object_object_add(params, "allowed_updates", json_object_get(allowed));
        explicit_bzero(secret, sizeof secret);
        r = bot_api_call(d->daemon.http, d->daemon.config.telegram_url, run->token->data, "setWebhook", params, on_webhook_set, run);
        if (r < 0)
                finish(run, r == -EINVAL, r == -EINVAL ? "the stored token is malformed" : "out of memory");
}

static void on_tenant(Pg *pg, const PGresult *res, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;
        int r;

        if (pg_result_to_errno(res) < 0)
                return finish(run, false, "the database is not reachable");
        run->found = PQntuples(res) == 1;
        if (run->found) {
                snprintf(run->name, sizeof run->name, "%s", PQgetvalue(res, 0, 0));
                run->owner = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
                snprintf(run->bot_username, sizeof run->bot_username, "%s", PQgetvalue(res, 0, 2));
        }
        r = token_load(d->daemon.config.deploy_token_dir, run->task.tenant, &run->token);
        if (r < 0 && r != -ENOENT)
                return finish(run, false, "cannot read the tenant's token file");
        switch (run->task.action) {
        case TASK_DEPLOY:
        case TASK_RESUME:
        case TASK_REDEPLOY:
                if (!run->found)
                        return finish(run, true, "no such tenant, or it was removed");
                return start_deploy(run);
        case TASK_SUSPEND:
        case TASK_REMOVE:
                if (!run->found)
                        return finish(run, false, NULL);   /* nothing left to stop */
                if (units_job(d->units, "StopUnit", run->unit, d->daemon.config.deploy_unit_timeout_usec, on_stopped, run) < 0)
                        finish(run, false, "cannot ask systemd to stop the unit");
                return;
        default:
                finish(run, true, "unknown action");
        }
}

static void on_running(int error, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;
        char id[24];
        const char *params[] = { id };

        if (error < 0) {
                return run_end(run, STREAM_RETRY);
        }
        run->task.attempts++;
        snprintf(id, sizeof id, "%" PRId64, run->task.tenant);
        if (pg_query(d->daemon.pg, TENANT_SQL, 1, params, on_tenant, run) < 0)
                finish(run, false, "the database is not reachable");
}

static void on_task(int error, const Task *t, void *userdata) {
        Run *run = userdata;
        Deployd *d = run->w->d;

        /* Gone, ended, or an entry superseded by a later one (a retry): nothing to run. */
        if (error == -ENOENT || (error == 0 && (!streq(t->entry, run->entry.id) || streq(t->status, "done") ||
                                                 streq(t->status, "dead")))) {
                return run_end(run, STREAM_ACK);
        }
        if (error < 0) {
                return run_end(run, STREAM_RETRY);
        }
        run->task = *t;
        snprintf(run->tenant_id, sizeof run->tenant_id, "%" PRId64, t->tenant);
        tenant_bot_name(t->tenant, run->bot, sizeof run->bot);
        tenant_unit_name(t->tenant, run->unit, sizeof run->unit);
        log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_TENANT(run->tenant_id)), "Task %s: %s of tenant %" PRId64 " (attempt %u).",
                   t->id, task_action_to_string(t->action), t->tenant, t->attempts + 1);
        if (queue_mark_running(d, t->id, on_running, run) < 0)
                run_end(run, STREAM_RETRY);
}

static int take(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields, void *userdata,
                StreamEntry **ret) {
        const char *task = redis_stream_field(fields, "task");
        Run *run;

        if (!task || strlen(task) >= sizeof run->task.id) {
                log_warning("Deploy entry %s names no task; acknowledged.", id);
                return STREAM_ACK;
        }
        run = calloc(1, sizeof *run);
        if (!run)
                return -ENOMEM;
        run->w = userdata;
        strcpy(run->task.id, task);
        *ret = &run->entry;
        return 0;
}

static void handle(StreamReader *sr, StreamEntry *e, void *userdata) {
        Run *run = container_of(e, Run, entry);

        if (queue_get(run->w->d, run->task.id, on_task, run) < 0)
                run_end(run, STREAM_RETRY);
}

int worker_new(Deployd *d, Worker **ret) {
        static const StreamSpec streams[] = { { .name = STREAM_DEPLOY } };
        Worker *w = calloc(1, sizeof *w);
        int r;

        if (!w)
                return -ENOMEM;
        w->d = d;
        /* One task at a time: tasks of one tenant never overlap, and each sees the last one's end. */
        r = stream_reader_new(d->daemon.event, d->daemon.redis, d->daemon.redis_blocking[0],
                              &(StreamReaderOptions) {
                                      .streams = streams,
                                      .n_streams = 1,
                                      .group = GROUP_DEPLOYD,
                                      .consumer = d->daemon.consumer,
                                      .max_held = 1,
                                      .claim_idle_usec = 5 * 60 * USEC_PER_SEC,
                                      .retention_usec = d->daemon.config.redis_stream_retention_usec,
                                      .command_timeout_usec = d->daemon.config.redis_command_timeout_usec,
                                      .take = take,
                                      .handle = handle,
                                      .free_entry = run_free,
                                      .failed = daemon_stream_failed,
                                      .userdata = w,
                              },
                              &w->reader);
        if (r < 0) {
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        stream_reader_free(w->reader);
        free(w);
        return NULL;
}
