/* SPDX-License-Identifier: MIT */
#pragma once

/* The subscription lifecycle (migrations/0014_lifecycle.sql, 0016_auto_renewal.sql), run every
 * [Subscriptions] IntervalSec: renewals (charged by renewals.c after each run), reminders, suspension at the end of the paid time, the last warning and the
 * removal, each recorded once as a notice; the notices outbox (subscription-events.c) tells the
 * owners and queues the suspend and remove tasks. */

#include "paymentd.h"

/* Starts the timer. Returns 0 or -errno. */
int lifecycle_start(Paymentd *p);

/* Runs it now (also what the timer does). */
void lifecycle_run(Paymentd *p);
