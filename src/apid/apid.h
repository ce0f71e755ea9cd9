/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-apid: the REST API of the booking platform's control plane. Socket-activated HTTP
 * (libmicrohttpd on the sd-event loop), every /api/ and /metrics request authenticated with the
 * bearer token of credential "api-token". Tenants live in PostgreSQL (tenant_add, tenant_request,
 * tenant_extend); their tokens and deploy tasks go to tgfleet-deployd over org.tgfleet.Deploy1;
 * tokens are checked with getMe first. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cli.h"
#include "config.h"
#include "creds.h"
#include "daemon.h"
#include "http-client.h"
#include "http-server.h"
#include "pg.h"

#define API_TOKEN_MIN 32

typedef struct Apid {
        Daemon daemon;              /* loop, config, database, HTTP client (getMe), the system bus
                                     * (org.tgfleet.Deploy1) */
        const DaemonArgs *args;
        HttpServer *server;
        Secret *api_token;

        struct {
                uint64_t requests, by_class[6];     /* by_class[k]: kxx answers */
                uint64_t unauthorized, deploys_queued;
        } stats;
} Apid;

/* Runs the daemon; SIGHUP reloads the configuration and the api-token credential. Returns 0 or a
 * negative errno (logged). */
int apid_run(const DaemonArgs *args);
