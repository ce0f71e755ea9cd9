/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "botd.h"
#include "daemon.h"
#include "log.h"
#include "tenant.h"
#include "webhook-secret.h"
#include "work.h"

#define TOKEN_MAX 256
#define SECRET_MAX 4096
#define STATUS_INTERVAL_USEC (2 * USEC_PER_SEC)

/* Tells systemd the counters, when they changed: an idle bot stays quiet. */
static void send_status(Botd *b) {
        SenderStats s = sender_stats(b->sender);
        char status[sizeof b->last_status];

        snprintf(status, sizeof status, "STATUS=Bot %s: updates %" PRIu64 ", events %" PRIu64 ", rate-limited %" PRIu64
                 ", queued %" PRIu64 "; sent %" PRIu64 ", refused %" PRIu64 ", retried %" PRIu64
                 ", throttled %" PRIu64 "; Redis %s",
                 b->bot, b->stats.updates, b->stats.events, b->stats.limited, updates_queued(b->updates),
                 s.sent, s.failed, s.retried, s.throttled, redis_is_up(b->redis) ? "up" : "down");
        if (streq(status, b->last_status))
                return;
        strcpy(b->last_status, status);
        sd_notify(false, status);
}

static int on_status_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Botd *b = userdata;

        if (b->ready)
                send_status(b);
        (void) sd_event_source_set_time(src, usec + STATUS_INTERVAL_USEC);
        return 0;
}

static void on_redis_state(Redis *r, bool up, void *userdata) {
        Botd *b = userdata;

        if (up && !b->ready) {
                b->ready = true;
                sd_notify(false, "READY=1");
                send_status(b);
        }
        if (!up)
                log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_REDIS_DOWN, .bot = b->bot),
                           "Redis connection lost.");
}

static int setup(Botd *b, const BotdArgs *args) {
        _cleanup_(secret_freep) Secret *password = NULL;
        char name[96];
        SenderOptions so;
        int r;

        b->args = args;
        r = config_load(&b->config, args->config_path);
        if (r < 0)
                return r;
        if (args->tenant > 0) {
                /* A tenant's bot: named after the tenant, its token is the unit's "bot-token". */
                b->role = &tenant_role;
                tenant_bot_name(args->tenant, b->bot, sizeof b->bot);
                strcpy(name, "bot-token");
        } else {
                /* A platform bot: named in the config, its token is "bot-token-NAME". */
                const char *bot = args->master ? b->config.master_bot : b->config.shop_bot;
                b->role = args->master ? &master_role : &shop_role;
                if (isempty(bot) || strlen(bot) >= sizeof b->bot || !bot_name_valid(bot, strlen(bot)))
                        return log_error_errno(EINVAL, "[%s] Bot= must be 1–64 letters, digits, '_' or '-'.",
                                               args->master ? "Master" : "Shop");
                strcpy(b->bot, bot);
                snprintf(name, sizeof name, "bot-token-%s", b->bot);
        }
        r = i18n_init(args->locale_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot set up translations: %m");
        r = creds_read(name, TOKEN_MAX, &b->token);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential %s: %m", name);
        r = creds_read_optional("redis-password", SECRET_MAX, &password);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential redis-password: %m");
        daemon_consumer_name(args->consumer, "botd", b->consumer, sizeof b->consumer);

        r = daemon_event_new(&b->event);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the event loop: %m");
        r = redis_new(b->event, b->config.redis_url, password, b->config.redis_command_timeout_usec, &b->redis);
        if (r >= 0)
                r = redis_new(b->event, b->config.redis_url, password, b->config.redis_command_timeout_usec,
                              &b->redis_block);
        if (r >= 0)
                r = redis_new(b->event, b->config.redis_url, password, b->config.redis_command_timeout_usec,
                              &b->redis_send_block);
        if (r < 0)
                return log_error_errno(r, "Invalid [Redis] URL=: %m");
        r = http_client_new(b->event, &b->http);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl: %m");
        if (b->role->setup) {
                r = b->role->setup(b);
                if (r < 0)
                        return r;
        }
        if (b->role->needs_bus) {
                r = sd_bus_open_system(&b->bus);
                if (r >= 0)
                        r = sd_bus_attach_event(b->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        return log_error_errno(r, "Cannot connect to the system bus: %m");
        }
        so = (SenderOptions) {
                .bot = b->bot,
                .token = b->token,
                .telegram_url = b->config.telegram_url,
                .consumer = b->consumer,
                .per_second = (unsigned) b->config.bots_messages_per_second,
                .chat_per_second = (unsigned) b->config.bots_chat_messages_per_second,
                .group_per_minute = (unsigned) b->config.bots_group_messages_per_minute,
                .command_timeout_usec = b->config.redis_command_timeout_usec,
                .retention_usec = b->config.redis_stream_retention_usec,
        };
        r = sender_new(b->event, b->redis, b->redis_send_block, b->http, &so, &b->sender);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the sender: %m");
        r = updates_new(b, &b->updates);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the update reader: %m");
        r = sd_event_add_time_relative(b->event, &b->status_timer, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 0,
                                       on_status_timer, b);
        if (r < 0)
                return log_error_errno(r, "Cannot add the status timer: %m");
        (void) sd_event_source_set_enabled(b->status_timer, SD_EVENT_ON);
        redis_set_state_callback(b->redis, on_redis_state, b);
        log_info("Bot %s (%s) starting as consumer %s.", b->bot, b->role->name, b->consumer);
        return 0;
}

static void teardown(Botd *b) {
        b->stopping = true;
        b->http = http_client_free(b->http);   /* before the role's state: cancelled calls end their work */
        if (b->role && b->role->done)
                b->role->done(b);
        b->bus = sd_bus_flush_close_unref(b->bus);
        b->redis = redis_free(b->redis);
        b->redis_block = redis_free(b->redis_block);
        b->redis_send_block = redis_free(b->redis_send_block);
        b->sender = sender_free(b->sender);
        b->updates = updates_free(b->updates);
        b->status_timer = sd_event_source_disable_unref(b->status_timer);
        b->event = sd_event_unref(b->event);
        b->token = secret_free(b->token);
        config_done(&b->config);
}

int botd_run(const BotdArgs *args) {
        Botd b = {};
        int r;

        r = setup(&b, args);
        if (r >= 0) {
                r = sd_event_loop(b.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        teardown(&b);
        return r;
}
