/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon.h"

int daemon_event_new(sd_event **ret) {
        sd_event *e = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_set_watchdog(e, true);
        if (r < 0) {
                sd_event_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

void daemon_consumer_name(const char *given, const char *fallback, char *buf, size_t size) {
        char host[256] = "";

        if (!given && gethostname(host, sizeof host - 1) == 0 && host[0])
                given = host;
        snprintf(buf, size, "%s", given ?: fallback);
}
