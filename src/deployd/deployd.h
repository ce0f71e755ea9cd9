/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-deployd: the host-side deploy worker. Tasks (deploy, suspend, resume, redeploy,
 * remove a tenant's bot) are queued on the Redis stream "deploy" (queue.c) and run one at a time
 * (worker.c): the tenant's token credential (tokens.c), its webhook (Bot API), its unit
 * tgfleet-bot@<tenant>.service through systemd's D-Bus API (units.c). Failed tasks are retried
 * with backoff, then dead-lettered. reconcile.c keeps every active tenant's unit running and no
 * other. bus.c publishes org.tgfleet.Deploy1. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cli.h"
#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "http-client.h"
#include "pg.h"
#include "redis.h"
#include "redis-keys.h"


typedef struct Worker Worker;
typedef struct Units Units;

typedef struct Deployd {
        Daemon daemon;              /* loop, config, Redis (and one blocking), database, HTTP, the system
                                     * bus (our name, and systemd) */
        Secret *webhook_key;
        char actor[300];            /* "deployd@<consumer>", in the audit log */
        Units *units;
        Worker *worker;
        sd_event_source *reconcile_timer;
        int units_error;                /* why listing units failed at the last pass, or 0 */
        sd_event_source *promote_timer;

        struct {
                uint64_t done;
                uint64_t retried;
                uint64_t dead;
                uint64_t reconciled;    /* units started or stopped by reconciliation */
        } stats;
} Deployd;

/* Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads the configuration and the webhook-key
 * credential. Returns 0 or a negative errno (logged). */
int deployd_run(const DaemonArgs *args);
