/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>

#include "bookingd.h"
#include "booking-bus.h"
#include "log.h"
#include "outbox.h"

static void status(Daemon *d, char *buf, size_t size) {
        Bookingd *b = d->opts.userdata;

        snprintf(buf, size, "Calls %" PRIu64 ", refused %" PRIu64 ", invalid %" PRIu64 ", failures %" PRIu64
                 "; PostgreSQL %s, Redis %s", b->stats.calls, b->stats.refused, b->stats.invalid, b->stats.failures,
                 pg_is_up(d->pg) ? "up" : "down", redis_is_up(d->redis) ? "up" : "down");
}

static int setup(Bookingd *b, const DaemonArgs *args) {
        int r;

        r = daemon_open(&b->daemon, &(DaemonOptions) {
                .name = "bookingd", .config_path = args->config_path,
                .database = true, .schema = true, .redis = true,
                .ready_on = DAEMON_READY_ON_DATABASE, .status = status,
                .userdata = b,
        });
        if (r < 0)
                return r;
        r = reminders_start(b);
        if (r < 0)
                return log_error_errno(r, "Cannot start the reminders: %m");
        return peers_listen(b);
}

int bookingd_run(const DaemonArgs *args) {
        Bookingd b = { .listen_fd = -EBADF };
        int r;

        r = setup(&b, args);
        if (r >= 0)
                r = daemon_run(&b.daemon);
        daemon_close_io(&b.daemon);   /* calls under way end through their callbacks */
        b.reminders = outbox_free(b.reminders);
        peers_close(&b);
        daemon_close(&b.daemon);
        return r;
}
