/* SPDX-License-Identifier: MIT */
#pragma once

/* Reconciliation: every [Payments] ReconcileIntervalSec, orders still open ReconcileAfterSec after
 * they were created are confirmed with Heleket by order id, exactly as a webhook would be. An
 * order Heleket never got an invoice for is expired once its lifetime is over. So a webhook that
 * never arrives costs minutes, not money. A cancelled order is asked about too until its invoice
 * expires at Heleket, as it can still be paid there. */

#include "paymentd.h"

/* Starts the timer. Returns 0 or -errno. */
int reconcile_start(Paymentd *p);

/* Runs one pass now (also what the timer does). */
void reconcile_run(Paymentd *p);
