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

static void status(Daemon *d, char *buf, size_t size) {
        Botd *b = d->opts.userdata;
        SenderStats s = sender_stats(b->sender);

        snprintf(buf, size, "Bot %s: updates %" PRIu64 ", events %" PRIu64 ", rate-limited %" PRIu64
                 ", queued %" PRIu64 "; sent %" PRIu64 " (%" PRIu64 " on the commit's budget), refused %" PRIu64 ", retried %" PRIu64
                 ", throttled %" PRIu64 "; Redis %s",
                 b->bot, b->stats.updates, b->stats.events, b->stats.limited, updates_queued(b->updates),
                 s.sent, s.granted, s.failed, s.retried, s.throttled, redis_is_up(d->redis) ? "up" : "down");
}

/* The bot's role and name. */
static int bot_names(Botd *b, const BotdArgs *args) {
        const Config *c = &b->daemon.config;

        if (args->tenant > 0) {
                /* A tenant's bot: named after the tenant, its token is the unit's "bot-token". */
                b->role = &tenant_role;
                tenant_bot_name(args->tenant, b->bot, sizeof b->bot);
                return 0;
        }
        /* A platform bot: named in the config, its token is "bot-token-NAME". */
        const char *bot = args->master ? c->master_bot : args->sales ? c->sales_bot : c->shop_bot;
        b->role = args->master ? &master_role : args->sales ? &sales_role : &shop_role;
        if (isempty(bot) || strlen(bot) >= sizeof b->bot || !bot_name_valid(bot, strlen(bot)))
                return log_error_errno(EINVAL, "[%s] Bot= must be 1–64 letters, digits, '_' or '-'.",
                                       args->master ? "Master" : args->sales ? "Sales" : "Shop");
        strcpy(b->bot, bot);
        return 0;
}

static int read_token(Botd *b, Secret **ret) {
        char name[96];
        int r;

        snprintf(name, sizeof name, b->args->tenant > 0 ? "bot-token" : "bot-token-%s", b->bot);
        r = creds_read(name, TOKEN_MAX, ret);
        if (r < 0)
                return log_error_errno(r, "Cannot read credential %s: %m", name);
        return 0;
}

/* SIGHUP: limits and texts come with the configuration; a rotated token is read again, and the
 * role takes what is its own. */
static int reload(Daemon *d, const Config *next) {
        Botd *b = d->opts.userdata;
        _cleanup_(secret_freep) Secret *token = NULL;
        int r;

        r = read_token(b, &token);
        if (r < 0)
                return r;
        if (b->role->reload) {
                r = b->role->reload(b, next);
                if (r < 0)
                        return r;
        }
        r = sender_set_token(b->sender, token);
        if (r < 0)
                return log_oom();
        secret_free(b->token);
        b->token = TAKE_PTR(token);
        return 0;
}

static int setup(Botd *b, const BotdArgs *args) {
        Daemon *d = &b->daemon;
        SenderOptions so;
        int r;

        b->args = args;
        r = daemon_open(d, &(DaemonOptions) {
                .name = "botd", .config_path = args->config_path, .consumer = args->consumer,
                .redis = true, .redis_blocking = 2, .http_client = true,
                .ready_on = DAEMON_READY_ON_REDIS, .status = status, .reload = reload, .userdata = b,
        });
        if (r < 0)
                return r;
        r = bot_names(b, args);
        if (r < 0)
                return r;
        if (b->role->needs_bus) {
                r = daemon_connect_bus(d);
                if (r < 0)
                        return r;
        }
        if (b->role->booking_peer)
                (void) daemon_connect_peer(d, d->config.booking_socket);   /* else at the first call */
        r = i18n_init(args->locale_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot set up translations: %m");
        r = read_token(b, &b->token);
        if (r < 0)
                return r;
        if (b->role->setup) {
                r = b->role->setup(b);
                if (r < 0)
                        return r;
        }
        so = (SenderOptions) {
                .bot = b->bot,
                .token = b->token,
                .telegram_url = d->config.telegram_url,
                .consumer = d->consumer,
                .per_second = (unsigned) d->config.bots_messages_per_second,
                .chat_per_second = (unsigned) d->config.bots_chat_messages_per_second,
                .group_per_minute = (unsigned) d->config.bots_group_messages_per_minute,
                .command_timeout_usec = d->config.redis_command_timeout_usec,
                .retention_usec = d->config.redis_stream_retention_usec,
        };
        r = sender_new(d->event, d->redis, d->redis_blocking[1], d->http, &so, &b->sender);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the sender: %m");
        r = updates_new(b, &b->updates);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the update reader: %m");
        log_info("Bot %s (%s) starting as consumer %s.", b->bot, b->role->name, d->consumer);
        return 0;
}

static void teardown(Botd *b) {
        daemon_close_io(&b->daemon);   /* cancelled calls end their work before the role's state goes */
        if (b->role && b->role->done)
                b->role->done(b);
        b->sender = sender_free(b->sender);
        b->updates = updates_free(b->updates);
        daemon_close(&b->daemon);
        b->token = secret_free(b->token);
}

int botd_run(const BotdArgs *args) {
        Botd b = {};
        int r;

        r = setup(&b, args);
        if (r >= 0)
                r = daemon_run(&b.daemon);
        teardown(&b);
        return r;
}
