/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-bookingd: the booking data of every business, for the businesses' own bots. One
 * PostgreSQL connection for the whole fleet, queries pipelined on it; each caller is held to its
 * own business, which bookingd derives from the calling process (peer.c) and answers over
 * org.tgfleet.Booking1 (bus.c). Reminders due go to each bot's events stream in Redis
 * (reminders.c). */

#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "daemon.h"

typedef struct Bookingd Bookingd;

/* One connection to bookingd's socket: a D-Bus connection of its own, bookingd the server. */
typedef struct Peer {
        Bookingd *b;
        sd_bus *bus;
        uid_t uid;                  /* the peer's, from the socket (SO_PEERCRED) */
        int64_t tenant;             /* whose bot runs as @uid, or -1: every call is refused */
        struct Peer *prev, *next;
} Peer;

struct Bookingd {
        Daemon daemon;              /* loop, config, database */
        int listen_fd;              /* bookingd's socket */
        sd_event_source *listen_source;
        Peer *peers;
        struct Outbox *reminders;
        struct {
                uint64_t calls;         /* answered */
                uint64_t refused;       /* callers that are no tenant bot */
                uint64_t invalid;       /* values the database refused */
                uint64_t failures;      /* the database unavailable */
        } stats;
};

/* Runs the daemon until SIGTERM/SIGINT. Returns 0 or a negative errno (logged). */
int bookingd_run(const DaemonArgs *args);

/* org.tgfleet.Booking1's methods (bus.c), each peer's connection serving them with the Peer as
 * userdata. */
extern const sd_bus_vtable booking_vtable[];

/* Listens on bookingd's socket: the one systemd passed (tgfleet-bookingd.socket), else [Booking]
 * Socket= bound here. Each connection is a Peer, served until it closes. Returns 0 or -errno
 * (logged). */
int peers_listen(Bookingd *b);

/* Starts publishing the reminders due. Returns 0 or -ENOMEM. */
int reminders_start(Bookingd *b);

/* Closes the socket and every peer's connection. */
void peers_close(Bookingd *b);
