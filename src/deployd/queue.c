/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "queue.h"
#include "redis-script.h"

#define TASK_PREFIX "deploy:task:"
#define COUNTER "deploy:next-id"
#define OPEN "deploy:open"
#define DELAYED "deploy:delayed"
#define DEAD "deploy:dead"
#define LIST_DEAD_MAX "100"
#define DONE_TTL_MS "604800000"   /* ended tasks' records are kept a week */
#define ONCE_PREFIX "deploy:once:"
#define ONCE_TTL_SEC "2592000"    /* a once key is remembered 30 days */

static const char *const action_names[_TASK_ACTION_MAX] = {
        [TASK_DEPLOY] = "deploy",
        [TASK_SUSPEND] = "suspend",
        [TASK_RESUME] = "resume",
        [TASK_REDEPLOY] = "redeploy",
        [TASK_REMOVE] = "remove",
};

const char *task_action_to_string(TaskAction a) {
        return a >= 0 && a < _TASK_ACTION_MAX ? action_names[a] : NULL;
}

TaskAction task_action_from_string(const char *s) {
        for (int i = 0; s && i < _TASK_ACTION_MAX; i++)
                if (streq(s, action_names[i]))
                        return (TaskAction) i;
        return _TASK_ACTION_INVALID;
}

int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shared by the scripts below: a task's place in the queue (0 once it was read), and a task
 * hash with its place, as a flat array. */
#define LUA_HELPERS                                                                                         \
        "local function position(stream, group, entry)\n"                                                  \
        "  local last = '0-0'\n"                                                                           \
        "  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)\n"                              \
        "  if not ok then return 0 end\n"                                                                  \
        "  for _, g in ipairs(groups) do\n"                                                                \
        "    local name, id\n"                                                                             \
        "    for i = 1, #g, 2 do\n"                                                                        \
        "      if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end\n" \
        "    end\n"                                                                                        \
        "    if name == group then last = id end\n"                                                        \
        "  end\n"                                                                                          \
        "  local ahead = #redis.call('XRANGE', stream, '(' .. last, entry)\n"                              \
        "  if ahead == 0 then return 0 end\n"                                                              \
        "  local ok2, pending = pcall(redis.call, 'XPENDING', stream, group)\n"                            \
        "  if not ok2 then return ahead - 1 end\n"                                                        \
        "  return ahead - 1 + pending[1]\n"                                                               \
        "end\n"                                                                                            \
        "local function task(stream, group, id)\n"                                                         \
        "  local t = redis.call('HGETALL', '" TASK_PREFIX "' .. id)\n"                                     \
        "  if #t == 0 then return nil end\n"                                                               \
        "  local h = {}\n"                                                                                 \
        "  for i = 1, #t, 2 do h[t[i]] = t[i + 1] end\n"                                                   \
        "  local p = 0\n"                                                                                  \
        "  if h.status == 'queued' then p = position(stream, group, h.entry) end\n"                        \
        "  table.insert(t, 'id'); table.insert(t, id)\n"                                                   \
        "  table.insert(t, 'position'); table.insert(t, tostring(p))\n"                                    \
        "  return t\n"                                                                                     \
        "end\n"

/* KEYS: stream, counter, open, once ("" for none). ARGV: group, tenant, action, actor, now. → task:
 * with a once key, the task that key queued before, if any (ended and forgotten: just its id). */
static RedisScript enqueue_script = REDIS_SCRIPT(
        LUA_HELPERS
        "if KEYS[4] ~= '' then\n"
        "  local before = redis.call('GET', KEYS[4])\n"
        "  if before then\n"
        "    return task(KEYS[1], ARGV[1], before) or\n"
        "           {'id', before, 'tenant', ARGV[2], 'action', ARGV[3], 'status', 'done', 'position', '0'}\n"
        "  end\n"
        "end\n"
        "local id = tostring(redis.call('INCR', KEYS[2]))\n"
        "if KEYS[4] ~= '' then redis.call('SET', KEYS[4], id, 'EX', " ONCE_TTL_SEC ") end\n"
        "local entry = redis.call('XADD', KEYS[1], '*', 'task', id)\n"
        "redis.call('HSET', '" TASK_PREFIX "' .. id, 'tenant', ARGV[2], 'action', ARGV[3], 'actor', ARGV[4],\n"
        "           'status', 'queued', 'attempts', '0', 'error', '', 'entry', entry,\n"
        "           'created_ms', ARGV[5], 'updated_ms', ARGV[5])\n"
        "redis.call('HSET', KEYS[3], ARGV[2], id)\n"
        "return task(KEYS[1], ARGV[1], id)\n");

/* KEYS: stream. ARGV: group, id. → task or nil */
static RedisScript get_script = REDIS_SCRIPT(
        LUA_HELPERS
        "return task(KEYS[1], ARGV[1], ARGV[2])\n");

/* KEYS: stream, open, dead. ARGV: group. → {task…}: open ones by id, then dead ones, newest first */
static RedisScript list_script = REDIS_SCRIPT(
        LUA_HELPERS
        "local out, ids = {}, redis.call('HVALS', KEYS[2])\n"
        "table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)\n"
        "for _, id in ipairs(redis.call('ZREVRANGE', KEYS[3], 0, " LIST_DEAD_MAX " - 1)) do table.insert(ids, id) end\n"
        "for _, id in ipairs(ids) do\n"
        "  local t = task(KEYS[1], ARGV[1], id)\n"
        "  if t then table.insert(out, t) end\n"
        "end\n"
        "return out\n");

/* KEYS: stream, dead, open. ARGV: group, id, now. → task, or nil when it is not dead-lettered */
static RedisScript retry_script = REDIS_SCRIPT(
        LUA_HELPERS
        "if redis.call('ZREM', KEYS[2], ARGV[2]) == 0 then return nil end\n"
        "local key = '" TASK_PREFIX "' .. ARGV[2]\n"
        "local entry = redis.call('XADD', KEYS[1], '*', 'task', ARGV[2])\n"
        "redis.call('HSET', key, 'status', 'queued', 'attempts', '0', 'error', '', 'entry', entry, 'updated_ms', ARGV[3])\n"
        "redis.call('PERSIST', key)\n"
        "redis.call('HSET', KEYS[3], redis.call('HGET', key, 'tenant'), ARGV[2])\n"
        "return task(KEYS[1], ARGV[1], ARGV[2])\n");

/* KEYS: task. ARGV: now. */
static RedisScript running_script = REDIS_SCRIPT(
        "redis.call('HSET', KEYS[1], 'status', 'running', 'updated_ms', ARGV[1])\n"
        "return redis.call('HINCRBY', KEYS[1], 'attempts', 1)\n");

/* KEYS: task, stream, open, dead. ARGV: group, entry, status (done|dead), error, now, tenant, id. */
static RedisScript ended_script = REDIS_SCRIPT(
        "redis.call('HSET', KEYS[1], 'status', ARGV[3], 'error', ARGV[4], 'updated_ms', ARGV[5])\n"
        "redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n"
        "if redis.call('HGET', KEYS[3], ARGV[6]) == ARGV[7] then redis.call('HDEL', KEYS[3], ARGV[6]) end\n"
        "if ARGV[3] == 'dead' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[7])\n"
        "else redis.call('PEXPIRE', KEYS[1], " DONE_TTL_MS ") end\n"
        "return 1\n");

/* KEYS: task, stream, delayed. ARGV: group, entry, error, now, due, id. */
static RedisScript retrying_script = REDIS_SCRIPT(
        "redis.call('HSET', KEYS[1], 'status', 'retrying', 'error', ARGV[3], 'updated_ms', ARGV[4], 'next_ms', ARGV[5])\n"
        "redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])\n"
        "redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n"
        "return 1\n");

/* KEYS: delayed, stream. ARGV: now. */
static RedisScript promote_script = REDIS_SCRIPT(
        "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)\n"
        "for _, id in ipairs(due) do\n"
        "  local entry = redis.call('XADD', KEYS[2], '*', 'task', id)\n"
        "  redis.call('HSET', '" TASK_PREFIX "' .. id, 'status', 'queued', 'entry', entry, 'updated_ms', ARGV[1])\n"
        "  redis.call('ZREM', KEYS[1], id)\n"
        "end\n"
        "return #due\n");

/* --- replies ------------------------------------------------------------------------------------ */

typedef struct Call {
        Deployd *d;
        void (*fn)(void);   /* the caller's callback, cast back by the reply handler */
        void *userdata;
} Call;

static Call *call_new(Deployd *d, void (*fn)(void), void *userdata) {
        Call *c = malloc(sizeof *c);
        if (c)
                *c = (Call) { d, fn, userdata };
        return c;
}

static int run(Deployd *d, RedisScript *script, RedisReplyFn on_reply, void (*fn)(void), void *userdata, int argc,
               const char **argv) {
        Call *c = call_new(d, fn, userdata);
        int r;

        if (!c)
                return -ENOMEM;
        r = redis_script_eval(d->daemon.redis, script, on_reply, c, argc, argv, NULL);
        if (r < 0)
                free(c);
        return r;
}

/* A flat [name, value, …] array → Task. Returns false when it is not one. */
static bool task_parse(const redisReply *a, Task *t) {
        *t = (Task) { .action = _TASK_ACTION_INVALID };
        if (!a || a->type != REDIS_REPLY_ARRAY || a->elements % 2 != 0)
                return false;
        for (size_t i = 0; i + 1 < a->elements; i += 2) {
                const redisReply *k = a->element[i], *v = a->element[i + 1];
                if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                        return false;
                if (streq(k->str, "id"))
                        snprintf(t->id, sizeof t->id, "%s", v->str);
                else if (streq(k->str, "tenant"))
                        t->tenant = strtoll(v->str, NULL, 10);
                else if (streq(k->str, "action"))
                        t->action = task_action_from_string(v->str);
                else if (streq(k->str, "actor"))
                        snprintf(t->actor, sizeof t->actor, "%s", v->str);
                else if (streq(k->str, "status"))
                        snprintf(t->status, sizeof t->status, "%s", v->str);
                else if (streq(k->str, "attempts"))
                        t->attempts = (unsigned) strtoul(v->str, NULL, 10);
                else if (streq(k->str, "error"))
                        snprintf(t->error, sizeof t->error, "%s", v->str);
                else if (streq(k->str, "entry"))
                        snprintf(t->entry, sizeof t->entry, "%s", v->str);
                else if (streq(k->str, "updated_ms"))
                        t->updated_ms = strtoll(v->str, NULL, 10);
                else if (streq(k->str, "position"))
                        t->position = (unsigned) strtoul(v->str, NULL, 10);
        }
        return t->id[0] && t->tenant > 0 && t->action != _TASK_ACTION_INVALID;
}

/* The queue's callers tell one Redis failure, -EIO, from its own answers (-ENOENT: no such task). */
static int reply_errno(const redisReply *reply) {
        if (redis_reply_errno(reply) == 0)
                return 0;
        if (reply)
                log_warning("Deploy queue script failed: %s", redis_reply_message(reply));
        return -EIO;
}

static void on_task_id(Redis *r, redisReply *reply, void *userdata) {
        _cleanup_free_ Call *c = userdata;
        TaskIdFn fn = (TaskIdFn) c->fn;
        Task t;
        int e = reply_errno(reply);

        if (e == 0 && reply->type == REDIS_REPLY_NIL)
                e = -ENOENT;
        if (e == 0 && !task_parse(reply, &t))
                e = -EIO;
        fn(e, e == 0 ? t.id : NULL, e == 0 ? t.position : 0, c->userdata);
}

static void on_task(Redis *r, redisReply *reply, void *userdata) {
        _cleanup_free_ Call *c = userdata;
        TaskFn fn = (TaskFn) c->fn;
        Task t;
        int e = reply_errno(reply);

        if (e == 0 && reply->type == REDIS_REPLY_NIL)
                e = -ENOENT;
        if (e == 0 && !task_parse(reply, &t))
                e = -EIO;
        fn(e, e == 0 ? &t : NULL, c->userdata);
}

static void on_list(Redis *r, redisReply *reply, void *userdata) {
        _cleanup_free_ Call *c = userdata;
        TaskListFn fn = (TaskListFn) c->fn;
        _cleanup_free_ Task *tasks = NULL;
        size_t n = 0;
        int e = reply_errno(reply);

        if (e == 0 && reply->type != REDIS_REPLY_ARRAY)
                e = -EIO;
        if (e == 0 && reply->elements > 0 && !(tasks = calloc(reply->elements, sizeof *tasks)))
                e = -ENOMEM;
        for (size_t i = 0; e == 0 && i < reply->elements; i++)
                if (task_parse(reply->element[i], &tasks[n]))
                        n++;
        fn(e, tasks, n, c->userdata);
}

static void on_done(Redis *r, redisReply *reply, void *userdata) {
        _cleanup_free_ Call *c = userdata;
        QueueDoneFn fn = (QueueDoneFn) c->fn;

        if (fn)
                fn(reply_errno(reply), c->userdata);
}

/* --- operations --------------------------------------------------------------------------------- */

bool queue_once_key_valid(const char *key) {
        size_t n = strlen(key);
        return n >= 1 && n <= QUEUE_ONCE_KEY_MAX &&
               strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-") == n;
}

int queue_enqueue(Deployd *d, int64_t tenant, TaskAction action, const char *actor, TaskIdFn cb, void *userdata) {
        return queue_enqueue_once(d, tenant, action, actor, NULL, cb, userdata);
}

int queue_enqueue_once(Deployd *d, int64_t tenant, TaskAction action, const char *actor, const char *key, TaskIdFn cb,
                       void *userdata) {
        char t[24], now[24], once[sizeof ONCE_PREFIX + QUEUE_ONCE_KEY_MAX] = "";
        const char *argv[] = { "4", STREAM_DEPLOY, COUNTER, OPEN, once, GROUP_DEPLOYD, t, task_action_to_string(action),
                               actor, now };

        if (tenant <= 0 || !argv[7] || !actor || !*actor || (key && !queue_once_key_valid(key)))
                return -EINVAL;
        if (key)
                snprintf(once, sizeof once, ONCE_PREFIX "%s", key);
        snprintf(t, sizeof t, "%" PRId64, tenant);
        snprintf(now, sizeof now, "%" PRId64, now_ms());
        return run(d, &enqueue_script, on_task_id, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_get(Deployd *d, const char *id, TaskFn cb, void *userdata) {
        const char *argv[] = { "1", STREAM_DEPLOY, GROUP_DEPLOYD, id };
        return run(d, &get_script, on_task, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_list(Deployd *d, TaskListFn cb, void *userdata) {
        const char *argv[] = { "3", STREAM_DEPLOY, OPEN, DEAD, GROUP_DEPLOYD };
        return run(d, &list_script, on_list, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_retry(Deployd *d, const char *id, TaskIdFn cb, void *userdata) {
        char now[24];
        const char *argv[] = { "3", STREAM_DEPLOY, DEAD, OPEN, GROUP_DEPLOYD, id, now };

        snprintf(now, sizeof now, "%" PRId64, now_ms());
        return run(d, &retry_script, on_task_id, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_mark_running(Deployd *d, const char *id, QueueDoneFn cb, void *userdata) {
        char key[64], now[24];
        const char *argv[] = { "1", key, now };

        snprintf(key, sizeof key, TASK_PREFIX "%s", id);
        snprintf(now, sizeof now, "%" PRId64, now_ms());
        return run(d, &running_script, on_done, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_mark_ended(Deployd *d, const Task *t, bool dead, const char *error, QueueDoneFn cb, void *userdata) {
        char key[64], now[24], tenant[24];
        const char *argv[] = { "4", key, STREAM_DEPLOY, OPEN, DEAD, GROUP_DEPLOYD, t->entry, dead ? "dead" : "done",
                               error ? error : "", now, tenant, t->id };

        snprintf(key, sizeof key, TASK_PREFIX "%s", t->id);
        snprintf(now, sizeof now, "%" PRId64, now_ms());
        snprintf(tenant, sizeof tenant, "%" PRId64, t->tenant);
        return run(d, &ended_script, on_done, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

int queue_mark_retrying(Deployd *d, const Task *t, const char *error, int64_t due_ms, QueueDoneFn cb,
                        void *userdata) {
        char key[64], now[24], due[24];
        const char *argv[] = { "3", key, STREAM_DEPLOY, DELAYED, GROUP_DEPLOYD, t->entry, error ? error : "", now, due,
                               t->id };

        snprintf(key, sizeof key, TASK_PREFIX "%s", t->id);
        snprintf(now, sizeof now, "%" PRId64, now_ms());
        snprintf(due, sizeof due, "%" PRId64, due_ms);
        return run(d, &retrying_script, on_done, (void (*)(void)) cb, userdata, ELEMENTSOF(argv), argv);
}

void queue_promote_due(Deployd *d) {
        char now[24];
        const char *argv[] = { "2", DELAYED, STREAM_DEPLOY, now };

        snprintf(now, sizeof now, "%" PRId64, now_ms());
        (void) redis_script_eval(d->daemon.redis, &promote_script, NULL, NULL, ELEMENTSOF(argv), argv, NULL);
}

static void on_open(Redis *r, redisReply *reply, void *userdata) {
        _cleanup_free_ Call *c = userdata;
        OpenTenantsFn fn = (OpenTenantsFn) c->fn;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0;
        int e = reply_errno(reply);

        if (e == 0 && reply->type != REDIS_REPLY_ARRAY)
                e = -EIO;
        if (e == 0 && reply->elements > 0 && !(ids = calloc(reply->elements, sizeof *ids)))
                e = -ENOMEM;
        for (size_t i = 0; e == 0 && i < reply->elements; i++)
                if (reply->element[i]->type == REDIS_REPLY_STRING)
                        ids[n++] = strtoll(reply->element[i]->str, NULL, 10);
        fn(e, ids, n, c->userdata);
}

int queue_open_tenants(Deployd *d, OpenTenantsFn cb, void *userdata) {
        Call *c = call_new(d, (void (*)(void)) cb, userdata);
        const char *argv[] = { "HKEYS", OPEN };
        int r;

        if (!c)
                return -ENOMEM;
        r = redis_command_argv(d->daemon.redis, on_open, c, ELEMENTSOF(argv), argv, NULL);
        if (r < 0)
                free(c);
        return r;
}
