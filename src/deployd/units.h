/* SPDX-License-Identifier: MIT */
#pragma once

/* systemd's D-Bus API (org.freedesktop.systemd1), as deployd uses it: start, stop or restart a
 * unit and wait for the job's end; list our units. Calls are refused by polkit unless the rule
 * shipped with tgfleet allows them (tgfleet-bot@*.service only). */

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Units Units;

/* A job's end: 0 when it finished "done" (a stop of an unknown unit too); -ETIMEDOUT; or another
 * -errno with @what saying why (systemd's job result, or the D-Bus error). */
typedef void (*UnitJobFn)(int error, const char *what, void *userdata);

/* Our units as systemd knows them: names and active states, valid during the callback. */
typedef struct UnitState {
        const char *name;
        const char *active_state;   /* "active", "activating", "inactive", "failed", … */
} UnitState;
typedef void (*UnitListFn)(int error, const UnitState *units, size_t n, void *userdata);

/* Watches systemd's jobs on @bus. Returns 0 or -errno. */
int units_new(sd_event *e, sd_bus *bus, Units **ret);

/* @method is "StartUnit", "StopUnit" or "RestartUnit" (mode "replace"). @cb gets one call when
 * the job ends or @timeout_usec passes, unless this returns < 0. */
int units_job(Units *u, const char *method, const char *unit, uint64_t timeout_usec, UnitJobFn cb, void *userdata);

/* Loaded units matching @pattern (e.g. "tgfleet-bot@*.service"). */
int units_list(Units *u, const char *pattern, UnitListFn cb, void *userdata);

/* Jobs waited for end with -ECANCELED. Accepts NULL; returns NULL. */
Units *units_free(Units *u);
