/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "bot-api.h"
#include "bus.h"
#include "deploy-bus.h"
#include "log.h"
#include "queue.h"
#include "tokens.h"

/* A method call waiting for Redis. */
typedef struct Pending {
        sd_bus_message *m;
} Pending;

static Pending *pending_new(sd_bus_message *m) {
        Pending *p = malloc(sizeof *p);
        if (p)
                p->m = sd_bus_message_ref(m);
        return p;
}

static void pending_free(Pending *p) {
        sd_bus_message_unref(p->m);
        free(p);
}

static void reply_errno(sd_bus_message *m, int error) {
        if (error == -ENOENT)
                (void) sd_bus_reply_method_errorf(m, DEPLOY_ERROR_NO_SUCH_TASK, "No such task, or not dead-lettered.");
        else
                (void) sd_bus_reply_method_errorf(m, DEPLOY_ERROR_UNAVAILABLE, "The task queue is unavailable; try again shortly.");
}

static int append_task(sd_bus_message *reply, const Task *t) {
        return sd_bus_message_append(reply, DEPLOY_TASK_SIGNATURE, t->id, t->tenant, task_action_to_string(t->action),
                                     t->actor, t->status, t->attempts, t->error, t->updated_ms, t->position);
}

static void on_enqueued(int error, const char *task, unsigned position, void *userdata) {
        Pending *p = userdata;

        if (error < 0)
                reply_errno(p->m, error);
        else
                (void) sd_bus_reply_method_return(p->m, "su", task, position);
        pending_free(p);
}

static void on_retried(int error, const char *task, unsigned position, void *userdata) {
        Pending *p = userdata;

        if (error < 0)
                reply_errno(p->m, error);
        else
                (void) sd_bus_reply_method_return(p->m, "u", position);
        pending_free(p);
}

/* Task ids are decimal counters. */
static bool task_id_valid(const char *id) {
        return *id && strlen(id) <= 20 && strspn(id, "0123456789") == strlen(id);
}

/* Enqueue, and EnqueueOnce with its key. */
static int method_enqueue(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Deployd *d = userdata;
        const char *action, *actor, *key = NULL;
        int64_t tenant;
        Pending *p;
        int r;

        r = sd_bus_message_read(m, "xss", &tenant, &action, &actor);
        if (r >= 0 && sd_bus_message_has_signature(m, "xsss"))
                r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        if (tenant <= 0 || task_action_from_string(action) == _TASK_ACTION_INVALID || !*actor || strlen(actor) > 150)
                return sd_bus_error_setf(error, DEPLOY_ERROR_INVALID,
                                         "A tenant id > 0, an action (deploy suspend resume redeploy remove) and an actor.");
        if (key && !queue_once_key_valid(key))
                return sd_bus_error_setf(error, DEPLOY_ERROR_INVALID, "A key of 1 to %d letters, digits and _:.-.",
                                         QUEUE_ONCE_KEY_MAX);
        p = pending_new(m);
        if (!p)
                return -ENOMEM;
        r = queue_enqueue_once(d, tenant, task_action_from_string(action), actor, key, on_enqueued, p);
        if (r < 0) {
                pending_free(p);
                return sd_bus_error_setf(error, DEPLOY_ERROR_UNAVAILABLE, "The task queue is unavailable.");
        }
        return 1;
}

static int method_store_token(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Deployd *d = userdata;
        const char *token;
        int64_t tenant;
        int r;

        r = sd_bus_message_read(m, "xs", &tenant, &token);
        if (r < 0)
                return r;
        if (tenant <= 0 || !bot_token_valid(token))
                return sd_bus_error_setf(error, DEPLOY_ERROR_INVALID, "A tenant id > 0 and a well-formed bot token.");
        r = token_store(d->daemon.config.deploy_token_dir, tenant, token);
        if (r < 0) {
                log_error_errno(r, "Cannot store the token of tenant %" PRId64 ": %m", tenant);
                return sd_bus_error_setf(error, DEPLOY_ERROR_UNAVAILABLE, "Cannot store the token.");
        }
        return sd_bus_reply_method_return(m, "");
}

static void on_task(int error, const Task *t, void *userdata) {
        Pending *p = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (error < 0)
                reply_errno(p->m, error);
        else if (sd_bus_message_new_method_return(p->m, &reply) >= 0 && append_task(reply, t) >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        pending_free(p);
}

/* Reads the task id argument of GetTask and Retry and prepares the pending reply. Returns 1 with
 * *ret set, or what the method must return (an error is set in @error). */
static int read_task_call(sd_bus_message *m, sd_bus_error *error, const char **id, Pending **ret) {
        int r;

        r = sd_bus_message_read(m, "s", id);
        if (r < 0)
                return r;
        if (!task_id_valid(*id))
                return sd_bus_error_setf(error, DEPLOY_ERROR_NO_SUCH_TASK, "No task %s.", *id);
        *ret = pending_new(m);
        return *ret ? 1 : -ENOMEM;
}

/* After queue_get() or queue_retry() returned @r: 1 when the reply is on its way. */
static int task_call_started(int r, Pending *p, sd_bus_error *error) {
        if (r >= 0)
                return 1;
        pending_free(p);
        return sd_bus_error_setf(error, DEPLOY_ERROR_UNAVAILABLE, "The task queue is unavailable.");
}

static int method_get_task(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        Pending *p;
        int r;

        r = read_task_call(m, error, &id, &p);
        if (r <= 0)
                return r;
        return task_call_started(queue_get(userdata, id, on_task, p), p, error);
}

static int method_retry(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        Pending *p;
        int r;

        r = read_task_call(m, error, &id, &p);
        if (r <= 0)
                return r;
        return task_call_started(queue_retry(userdata, id, on_retried, p), p, error);
}

static void on_list(int error, const Task *tasks, size_t n, void *userdata) {
        Pending *p = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (error < 0) {
                reply_errno(p->m, error);
                return pending_free(p);
        }
        r = sd_bus_message_new_method_return(p->m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', DEPLOY_TASK_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_task(reply, &tasks[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                (void) sd_bus_send(NULL, reply, NULL);
        pending_free(p);
}

static int method_list_tasks(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pending *p = pending_new(m);

        if (!p)
                return -ENOMEM;
        if (queue_list(userdata, on_list, p) < 0) {
                pending_free(p);
                return sd_bus_error_setf(error, DEPLOY_ERROR_UNAVAILABLE, "The task queue is unavailable.");
        }
        return 1;
}

static const sd_bus_vtable deploy_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("StoreToken", SD_BUS_ARGS("x", tenant, "s", token), SD_BUS_NO_RESULT,
                                method_store_token, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Enqueue", SD_BUS_ARGS("x", tenant, "s", action, "s", actor),
                                SD_BUS_RESULT("s", task, "u", position), method_enqueue, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnqueueOnce", SD_BUS_ARGS("x", tenant, "s", action, "s", actor, "s", key),
                                SD_BUS_RESULT("s", task, "u", position), method_enqueue, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddClient",
                                SD_BUS_ARGS("s", token, "x", owner, "s", name, "s", time_zone, "s", actor),
                                SD_BUS_RESULT("x", tenant, "s", bot_username), bus_method_add_client,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("GetTask", SD_BUS_ARGS("s", task), SD_BUS_RESULT(DEPLOY_TASK_SIGNATURE, task),
                                method_get_task, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTasks", SD_BUS_NO_ARGS, SD_BUS_RESULT("a" DEPLOY_TASK_SIGNATURE, tasks),
                                method_list_tasks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Retry", SD_BUS_ARGS("s", task), SD_BUS_RESULT("u", position), method_retry,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_setup(Deployd *d) {
        return daemon_publish(&d->daemon, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE, deploy_vtable, d);
}
