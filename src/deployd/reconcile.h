/* SPDX-License-Identifier: MIT */
#pragma once

/* Desired against running state, at start and every [Deploy] ReconcileIntervalSec: the unit of
 * every active tenant runs, and no other tgfleet-bot@ unit does (after a reboot, a unit stopped
 * or started by hand, a tenant suspended while deployd was down). Tenants with a task not ended
 * are left to their task. */

#include "deployd.h"

int reconcile_start(Deployd *d);
void reconcile_run(Deployd *d);
