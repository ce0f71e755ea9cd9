/* SPDX-License-Identifier: MIT */
#pragma once

/* The event loop every tgfleet daemon runs on. */

#include <stddef.h>
#include <systemd/sd-event.h>

/* Creates the default sd-event loop that exits on SIGTERM and SIGINT and pings the systemd
 * watchdog when WATCHDOG_USEC asks for it. SIGTERM, SIGINT and SIGHUP are blocked (a caller may add
 * its own SIGHUP source; without one SIGHUP is ignored) and SIGPIPE is ignored. Returns 0 and a
 * new reference in *ret, or -errno. */
int daemon_event_new(sd_event **ret);

/* A daemon's name in its consumer groups: @given (from --consumer=), else the host name, else
 * @fallback. */
void daemon_consumer_name(const char *given, const char *fallback, char *buf, size_t size);
