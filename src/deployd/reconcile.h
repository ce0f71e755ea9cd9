/* SPDX-License-Identifier: MIT */
#pragma once

/* Desired against running state, at start and every [Deploy] ReconcileIntervalSec: the unit of
 * every active tenant runs, and no other tgfleet-bot@ unit does (after a reboot, a unit stopped
 * or started by hand, a tenant suspended while deployd was down). Tenants with a task not ended
 * are left to their task. The same pass removes the sales clients never paid within [Sales]
 * PendingTTLSec (tenant_expire_pending) and deletes the token of every removed client. */

#include "deployd.h"

int reconcile_start(Deployd *d);
void reconcile_run(Deployd *d);
