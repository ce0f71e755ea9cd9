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

#include "config.h"
#include "creds.h"
#include "http-client.h"
#include "pg.h"
#include "redis.h"
#include "redis-keys.h"


typedef struct Worker Worker;
typedef struct Units Units;

typedef struct DeploydArgs {
        const char *config_path;
        const char *consumer;       /* --consumer=NAME, default the host name */
} DeploydArgs;

typedef struct Deployd {
        sd_event *event;
        Config config;
        Secret *webhook_key;
        char consumer_name[128];
        char actor[160];            /* "deployd@<consumer>", in the audit log */

        Pg *pg;
        Redis *redis;
        Redis *redis_block;
        HttpClient *http;
        sd_bus *bus;                /* the system bus: our name, and systemd */
        Units *units;
        Worker *worker;
        sd_event_source *reconcile_timer;
        sd_event_source *status_timer;
        bool ready;
        bool stopping;

        struct {
                uint64_t done;
                uint64_t retried;
                uint64_t dead;
                uint64_t reconciled;    /* units started or stopped by reconciliation */
        } stats;
} Deployd;

int deployd_run(const DeploydArgs *args);
