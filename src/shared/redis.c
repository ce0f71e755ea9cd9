/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sys/epoll.h>

#include "log.h"
#include "macro.h"
#include "redis.h"

#define RECONNECT_MIN_USEC (100 * USEC_PER_MSEC)
#define RECONNECT_MAX_USEC (2 * USEC_PER_SEC)

typedef struct Pending {
        Redis *redis;
        RedisReplyFn cb;
        void *userdata;
} Pending;

struct Redis {
        sd_event *event;
        RedisAddress addr;
        Secret *password;
        uint64_t timeout_usec;

        redisAsyncContext *ac;
        bool connected;
        bool down_told;                   /* state_cb heard of this outage (or of the first failure) */
        sd_event_source *io;
        uint32_t io_events;
        sd_event_source *flush;           /* writes queued commands once per loop iteration */
        bool want_write;

        sd_event_source *reconnect_timer;
        uint64_t backoff_usec;

        sd_event_source *watchdog_timer;  /* checks for replies overdue */
        unsigned inflight;
        uint64_t last_progress;           /* last reply, or first command after idle */

        RedisStateFn state_cb;
        char error[256];              /* why the connection last failed or was dropped */
        void *state_userdata;
        /* redis_free() may come from a callback of ours (a reply, the state): the object goes only
         * once hiredis is done with its context (cleaned) and no call into this file is under
         * way (calling). */
        bool freed, cleaned;
        unsigned calling;
};

static void destroy(Redis *r);

static void enter(Redis *r) {
        r->calling++;
}

static void maybe_destroy(Redis *r) {
        if (r->freed && r->cleaned && r->calling == 0)
                destroy(r);
}

static void leave(Redis *r) {
        r->calling--;
        maybe_destroy(r);
}

int redis_address_parse(const char *url, RedisAddress *ret) {
        RedisAddress a = { .port = 6379 };
        const char *p;

        if ((p = startswith(url, "unix://"))) {
                const char *q = strchr(p, '?');
                if (*p != '/')
                        return -EINVAL;
                a.path = q ? strndup(p, (size_t) (q - p)) : strdup(p);
                if (!a.path)
                        return -ENOMEM;
                if (q) {
                        char *end;
                        const char *v = startswith(q + 1, "db=");
                        unsigned long db = v ? strtoul(v, &end, 10) : 0;
                        if (!v || *end || end == v || db > 1000) {
                                free(a.path);
                                return -EINVAL;
                        }
                        a.db = (unsigned) db;
                }
                *ret = a;
                return 0;
        }
        if (!(p = startswith(url, "redis://")))
                return -EINVAL;
        if (strchr(p, '@'))
                return -EINVAL; /* credentials in the URL: refused, see redis-password */

        const char *hstart = p, *hend;
        if (*p == '[') {
                hstart = p + 1;
                hend = strchr(hstart, ']');
                if (!hend)
                        return -EINVAL;
                p = hend + 1;
        } else {
                hend = p + strcspn(p, ":/");
                p = hend;
        }
        if (hend == hstart)
                return -EINVAL;
        if (*p == ':') {
                char *end;
                unsigned long port = strtoul(p + 1, &end, 10);
                if (end == p + 1 || port == 0 || port > 65535)
                        return -EINVAL;
                a.port = (unsigned) port;
                p = end;
        }
        if (*p == '/' && p[1]) {
                char *end;
                unsigned long db = strtoul(p + 1, &end, 10);
                if (*end || db > 1000)
                        return -EINVAL;
                a.db = (unsigned) db;
        } else if (*p && !streq(p, "/"))
                return -EINVAL;
        a.host = strndup(hstart, (size_t) (hend - hstart));
        if (!a.host)
                return -ENOMEM;
        *ret = a;
        return 0;
}

void redis_address_done(RedisAddress *a) {
        free(a->host);
        free(a->path);
        *a = (RedisAddress) {};
}

/* --- the hiredis event adapter --------------------------------------------------------------- */

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Redis *r = userdata;
        redisAsyncContext *ac = r->ac;
        (void) s, (void) fd;

        enter(r);
        /* Either handler may end the context; r->ac is cleared when that happens. */
        if ((revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && (r->io_events & EPOLLOUT))
                redisAsyncHandleWrite(ac);
        if (r->ac == ac && (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (r->io_events & EPOLLIN))
                redisAsyncHandleRead(ac);
        leave(r);
        return 0;
}

static void update_io(Redis *r, uint32_t events) {
        r->io_events = events;
        if (!r->io) {
                if (events == 0 || sd_event_add_io(r->event, &r->io, r->ac->c.fd, events, on_io, r) < 0)
                        return;
                return;
        }
        (void) sd_event_source_set_io_events(r->io, events);
        (void) sd_event_source_set_enabled(r->io, events ? SD_EVENT_ON : SD_EVENT_OFF);
}

static void ev_add_read(void *d)  { Redis *r = d; update_io(r, r->io_events | EPOLLIN); }
static void ev_del_read(void *d)  { Redis *r = d; update_io(r, r->io_events & ~(uint32_t) EPOLLIN); }

/* Once connected, commands are not written one by one on EPOLLOUT: a deferred source writes
 * everything queued in this loop iteration at once, and EPOLLOUT is asked for only when the
 * socket could not take it all. That saves two epoll_ctl() per command and batches them. */
static void ev_add_write(void *d) {
        Redis *r = d;

        r->want_write = true;
        if (r->ac && (r->ac->c.flags & REDIS_CONNECTED))
                (void) sd_event_source_set_enabled(r->flush, SD_EVENT_ONESHOT);
        else
                update_io(r, r->io_events | EPOLLOUT);  /* connecting: completion shows as EPOLLOUT */
}

static void ev_del_write(void *d) {
        Redis *r = d;

        r->want_write = false;
        if (r->io_events & EPOLLOUT)
                update_io(r, r->io_events & ~(uint32_t) EPOLLOUT);
}

static void ev_cleanup(void *d) {
        Redis *r = d;
        r->io = sd_event_source_disable_unref(r->io);
        r->io_events = 0;
        r->want_write = false;
        (void) sd_event_source_set_enabled(r->flush, SD_EVENT_OFF);
        /* The last call hiredis makes into a context it frees, after its pending callbacks. */
        r->cleaned = true;
        maybe_destroy(r);
}

static int on_flush(sd_event_source *s, void *userdata) {
        Redis *r = userdata;
        redisAsyncContext *ac = r->ac;
        (void) s;

        if (!ac || !r->want_write)
                return 0;
        enter(r);
        redisAsyncHandleWrite(ac);
        /* Still wanted: the socket buffer is full, wait for it to drain. */
        if (r->ac == ac && r->want_write && !(r->io_events & EPOLLOUT))
                update_io(r, r->io_events | EPOLLOUT);
        leave(r);
        return 0;
}

/* --- connection lifecycle -------------------------------------------------------------------- */

static void connect_now(Redis *r);

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Redis *r = userdata;

        enter(r);
        connect_now(r);
        leave(r);
        return 0;
}

_printf_(2, 3) static void set_error(Redis *r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(r->error, sizeof r->error, format, ap);
        va_end(ap);
}

const char *redis_error(const Redis *r) {
        return r->error[0] ? r->error : "unknown error";
}

static void schedule_reconnect(Redis *r) {
        uint64_t now;

        r->backoff_usec = r->backoff_usec ? MIN(r->backoff_usec * 2, RECONNECT_MAX_USEC) : RECONNECT_MIN_USEC;
        (void) sd_event_now(r->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(r->reconnect_timer, now + r->backoff_usec);
        (void) sd_event_source_set_enabled(r->reconnect_timer, SD_EVENT_ONESHOT);
}

/* Tells state_cb of an outage once: the first failed attempt, or the loss of a connection. */
static void tell_down(Redis *r) {
        if (r->down_told)
                return;
        r->down_told = true;
        if (r->state_cb)
                r->state_cb(r, false, r->state_userdata);
}

static void set_down(Redis *r) {
        r->ac = NULL;
        r->connected = false;
        r->inflight = 0;
        tell_down(r);
        schedule_reconnect(r);
}

static void on_connect(const redisAsyncContext *ac, int status) {
        Redis *r = ac->data;

        if (status != REDIS_OK) {
                set_error(r, "%s", ac->errstr);
                log_debug("Redis connection failed: %s", ac->errstr);
                set_down(r); /* hiredis frees the context after this returns */
                return;
        }
        r->connected = true;
        r->down_told = false;
        r->backoff_usec = 0;
        r->error[0] = 0;
        if (r->state_cb)
                r->state_cb(r, true, r->state_userdata);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
        Redis *r = ac->data;

        if (r->ac != ac)
                return;
        if (status != REDIS_OK)
                set_error(r, "%s", ac->errstr);
        else if (!r->error[0])
                set_error(r, "the connection was closed");
        set_down(r);
}

static void on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        redisReply *rep = reply;
        (void) privdata;

        /* A refused AUTH or SELECT leaves a connection no command should use. */
        if (rep && redis_reply_errno(rep) < 0) {
                set_error(ac->data, "refused the connection setup: %s", redis_reply_message(rep));
                redisAsyncDisconnect(ac);
        }
}

static void connect_now(Redis *r) {
        redisAsyncContext *ac;

        ac = r->addr.path ? redisAsyncConnectUnix(r->addr.path) : redisAsyncConnect(r->addr.host, (int) r->addr.port);
        if (!ac || ac->err) {
                set_error(r, "%s", ac ? ac->errstr : "out of memory");
                log_debug("Redis connection failed: %s", r->error);
                if (ac)
                        redisAsyncFree(ac);
                tell_down(r);
                schedule_reconnect(r);
                return;
        }
        ac->data = r;
        ac->ev.data = r;
        r->cleaned = false;
        ac->ev.addRead = ev_add_read;
        ac->ev.delRead = ev_del_read;
        ac->ev.addWrite = ev_add_write;
        ac->ev.delWrite = ev_del_write;
        ac->ev.cleanup = ev_cleanup;
        r->ac = ac;
        (void) redisAsyncSetConnectCallback(ac, on_connect);
        (void) redisAsyncSetDisconnectCallback(ac, on_disconnect);
        /* Queued now, sent first once connected: they precede every command of ours. */
        if (r->password)
                (void) redisAsyncCommand(ac, on_setup_reply, NULL, "AUTH %b", r->password->data, r->password->size);
        if (r->addr.db != 0)
                (void) redisAsyncCommand(ac, on_setup_reply, NULL, "SELECT %u", r->addr.db);
        (void) sd_event_now(r->event, CLOCK_MONOTONIC, &r->last_progress);
        /* ev.addWrite is called by hiredis once the socket exists. */
        ev_add_write(r);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Redis *r = userdata;
        uint64_t now;

        (void) sd_event_now(r->event, CLOCK_MONOTONIC, &now);
        if (r->ac && (r->inflight > 0 || !r->connected) && now > r->last_progress + r->timeout_usec) {
                redisAsyncContext *ac = r->ac;
                set_error(r, "no answer within %llu ms", (unsigned long long) (r->timeout_usec / USEC_PER_MSEC));
                /* Detach first: freeing calls the disconnect callback and the pending callbacks. */
                enter(r);
                set_down(r);
                redisAsyncFree(ac);
                if (r->freed) {
                        leave(r);   /* freed from one of those callbacks: gone now */
                        return 0;
                }
                leave(r);
        }
        (void) sd_event_source_set_time(s, usec + MIN(r->timeout_usec / 4 + 1, USEC_PER_SEC));
        return 0;
}

int redis_new(sd_event *e, const char *url, const Secret *password, uint64_t timeout_usec, Redis **ret) {
        Redis *r = calloc(1, sizeof *r);
        int k;

        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->timeout_usec = timeout_usec ?: 5 * USEC_PER_SEC;
        k = redis_address_parse(url, &r->addr);
        if (k >= 0 && password) {
                r->password = malloc(sizeof *r->password + password->size + 1);
                if (!r->password)
                        k = -ENOMEM;
                else
                        memcpy(r->password, password, sizeof *password + password->size + 1);
        }
        if (k >= 0)
                k = sd_event_add_time(e, &r->reconnect_timer, CLOCK_MONOTONIC, 0, 0, on_reconnect, r);
        if (k >= 0)
                k = sd_event_add_defer(e, &r->flush, on_flush, r);
        if (k >= 0)
                k = sd_event_source_set_enabled(r->flush, SD_EVENT_OFF);
        if (k >= 0)
                k = sd_event_add_time_relative(e, &r->watchdog_timer, CLOCK_MONOTONIC,
                                               MIN(r->timeout_usec / 4 + 1, USEC_PER_SEC), 0, on_watchdog, r);
        if (k >= 0)
                k = sd_event_source_set_enabled(r->watchdog_timer, SD_EVENT_ON);
        if (k < 0) {
                redis_free(r);
                return k;
        }
        /* The first attempt from the loop, once the caller has set its state callback. */
        (void) sd_event_source_set_enabled(r->reconnect_timer, SD_EVENT_ONESHOT);
        *ret = r;
        return 0;
}

void redis_set_state_callback(Redis *r, RedisStateFn cb, void *userdata) {
        r->state_cb = cb;
        r->state_userdata = userdata;
}

bool redis_is_up(const Redis *r) {
        return r && r->connected;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
        Pending *p = privdata;
        Redis *r = p->redis;

        if (r->ac == ac) {
                if (r->inflight > 0)
                        r->inflight--;
                (void) sd_event_now(r->event, CLOCK_MONOTONIC, &r->last_progress);
        }
        if (p->cb)
                p->cb(r, reply, p->userdata);
        free(p);
}

int redis_command_argv(Redis *r, RedisReplyFn cb, void *userdata, int argc, const char **argv,
                       const size_t *argvlen) {
        Pending *p;

        if (!r->connected || !r->ac)
                return -ENOTCONN;
        p = malloc(sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (Pending) { r, cb, userdata };
        if (redisAsyncCommandArgv(r->ac, on_reply, p, argc, argv, argvlen) != REDIS_OK) {
                free(p);
                return -ENOTCONN;
        }
        if (r->inflight++ == 0)
                (void) sd_event_now(r->event, CLOCK_MONOTONIC, &r->last_progress);
        return 0;
}

Redis *redis_free(Redis *r) {
        redisAsyncContext *ac;

        if (!r || r->freed)
                return NULL;
        enter(r);
        r->freed = true;
        r->connected = false;
        r->state_cb = NULL;
        ac = TAKE_PTR(r->ac);
        if (!ac)
                r->cleaned = true;
        else {
                /* Pending commands get their NULL reply first; then hiredis cleans up
                 * (ev_cleanup()). Called from one of our own callbacks, hiredis does that once
                 * the callback returned, and @r stays until then. */
                ac->onDisconnect = NULL;
                redisAsyncFree(ac);
        }
        leave(r);
        return NULL;
}

static void destroy(Redis *r) {
        sd_event_source_disable_unref(r->reconnect_timer);
        sd_event_source_disable_unref(r->watchdog_timer);
        sd_event_source_disable_unref(r->flush);
        sd_event_source_disable_unref(r->io);
        redis_address_done(&r->addr);
        secret_free(r->password);
        sd_event_unref(r->event);
        free(r);
}

int redis_reply_errno(const redisReply *reply) {
        static const struct { const char *code; int error; } codes[] = {
                { "NOGROUP", ENOENT }, { "BUSYGROUP", EEXIST }, { "NOSCRIPT", ENOEXEC }, { "READONLY", EROFS },
                { "OOM", ENOMEM }, { "NOAUTH", EACCES }, { "WRONGPASS", EACCES }, { "NOPERM", EACCES },
                { "LOADING", EAGAIN }, { "BUSY", EAGAIN }, { "MASTERDOWN", EAGAIN }, { "TRYAGAIN", EAGAIN },
                { "NOREPLICAS", EAGAIN },
        };

        if (!reply)
                return -ENOTCONN;
        if (reply->type != REDIS_REPLY_ERROR)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(codes); i++) {
                const char *rest = startswith(reply->str, codes[i].code);
                if (rest && (*rest == ' ' || *rest == 0))
                        return -codes[i].error;
        }
        return -EIO;
}

const char *redis_reply_message(const redisReply *reply) {
        if (!reply)
                return "connection lost";
        return reply->type == REDIS_REPLY_ERROR ? reply->str : NULL;
}

const char *redis_stream_field(const redisReply *fields, const char *name) {
        for (size_t i = 0; fields && fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
                if (fields->element[i]->type == REDIS_REPLY_STRING && streq(fields->element[i]->str, name) &&
                    fields->element[i + 1]->type == REDIS_REPLY_STRING)
                        return fields->element[i + 1]->str;
        return NULL;
}
