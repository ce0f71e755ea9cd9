/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-bookingd: the booking data of every business, for the businesses' own bots. One
 * PostgreSQL connection for the whole fleet, queries pipelined on it; each caller is held to its
 * own business, which bookingd derives from the calling process (bus.c). */

#include <stdint.h>

#include "cli.h"
#include "daemon.h"

typedef struct Bookingd {
        Daemon daemon;              /* loop, config, database, bus */
        struct {
                uint64_t calls;         /* answered */
                uint64_t refused;       /* callers that are no tenant bot */
                uint64_t invalid;       /* values the database refused */
                uint64_t failures;      /* the database unavailable */
        } stats;
} Bookingd;

/* Runs the daemon until SIGTERM/SIGINT. Returns 0 or a negative errno (logged). */
int bookingd_run(const DaemonArgs *args);

/* Publishes org.tgfleet.Booking1 on the daemon's system bus. Returns 0 or -errno. */
int bus_setup(Bookingd *b);
