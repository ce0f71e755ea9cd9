/* SPDX-License-Identifier: MIT */
#pragma once

/* The deploy task queue in Redis. A task is a hash "deploy:task:<id>" (tenant, action, actor,
 * status, attempts, error, entry, created_ms, updated_ms, next_ms) and an entry {task: <id>} on
 * the stream "deploy", read by the group "deployd". A task waiting to be retried sits in the
 * sorted set "deploy:delayed" (by due time) and goes back on the stream when due; a dead-lettered
 * one sits in "deploy:dead" until retried by hand. "deploy:open" maps each tenant to its task not
 * yet ended, which reconciliation leaves alone. Every change is one Lua script: a crash between
 * two steps cannot lose a task or run one twice at once.
 *
 * Statuses: queued → running → done | retrying (→ queued …) | dead (→ queued by hand). */

#include <stdbool.h>
#include <stdint.h>

#include "deployd.h"

typedef enum TaskAction {
        TASK_DEPLOY,
        TASK_SUSPEND,
        TASK_RESUME,
        TASK_REDEPLOY,
        TASK_REMOVE,
        _TASK_ACTION_MAX,
        _TASK_ACTION_INVALID = -1,
} TaskAction;

const char *task_action_to_string(TaskAction a);
TaskAction task_action_from_string(const char *s);

typedef struct Task {
        char id[24];
        int64_t tenant;
        TaskAction action;
        char actor[160];
        char status[16];
        unsigned attempts;
        char error[512];
        char entry[48];           /* its current stream entry */
        int64_t updated_ms;
        unsigned position;        /* queued: tasks before it, counting a running one; else 0 */
} Task;

/* Replies: 0 and the value, or a negative errno (-ENOENT: no such task; -EIO: Redis). */
typedef void (*TaskIdFn)(int error, const char *task_id, unsigned position, void *userdata);
typedef void (*TaskFn)(int error, const Task *task, void *userdata);
typedef void (*TaskListFn)(int error, const Task *tasks, size_t n, void *userdata);
typedef void (*QueueDoneFn)(int error, void *userdata);

/* Queues @action for @tenant on behalf of @actor. Returns 0 (then @cb gets one call) or -errno. */
int queue_enqueue(Deployd *d, int64_t tenant, TaskAction action, const char *actor, TaskIdFn cb, void *userdata);

/* As queue_enqueue(), once per @key (1 to QUEUE_ONCE_KEY_MAX letters, digits and "_:.-"): asked
 * again with the same key (for 30 days) it answers with the task it queued then. */
#define QUEUE_ONCE_KEY_MAX 100
int queue_enqueue_once(Deployd *d, int64_t tenant, TaskAction action, const char *actor, const char *key, TaskIdFn cb,
                       void *userdata);
bool queue_once_key_valid(const char *key);

/* The task @id, with its position when queued. */
int queue_get(Deployd *d, const char *id, TaskFn cb, void *userdata);

/* Tasks not ended (queued, running, retrying), oldest first, then dead-lettered ones, newest
 * first (at most 100). */
int queue_list(Deployd *d, TaskListFn cb, void *userdata);

/* Puts dead-lettered task @id back on the queue with its attempts reset. -ENOENT when it is not
 * dead-lettered. */
int queue_retry(Deployd *d, const char *id, TaskIdFn cb, void *userdata);

/* The worker's transitions of the task read from stream entry @entry: running (attempts + 1);
 * done or dead (acknowledged); retrying, due at @due_ms (acknowledged, in "deploy:delayed"). */
int queue_mark_running(Deployd *d, const char *id, QueueDoneFn cb, void *userdata);
int queue_mark_ended(Deployd *d, const Task *t, bool dead, const char *error, QueueDoneFn cb, void *userdata);
int queue_mark_retrying(Deployd *d, const Task *t, const char *error, int64_t due_ms, QueueDoneFn cb,
                        void *userdata);

/* Moves due delayed tasks back onto the stream. */
void queue_promote_due(Deployd *d);

/* Tenants with a task not ended (valid during the callback). */
typedef void (*OpenTenantsFn)(int error, const int64_t *tenants, size_t n, void *userdata);
int queue_open_tenants(Deployd *d, OpenTenantsFn cb, void *userdata);

int64_t now_ms(void);
