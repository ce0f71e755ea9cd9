/* SPDX-License-Identifier: MIT */
#pragma once

/* The subscription lifecycle (migrations/0014_lifecycle.sql, 0016_auto_renewal.sql), run every
 * [Subscriptions] IntervalSec: renewals (charged by renewals.c after each run), reminders,
 * suspension at the end of the paid time, the last warning and the removal, each recorded once as
 * a notice; the notices outbox (subscription-events.c) tells the owners and queues the suspend and
 * remove tasks. What another session's run makes (tgfleetctl subscriptions run) wakes both at once
 * (migrations/0017_subscription_wake.sql). */

#include "paymentd.h"

/* Starts the timer and listens for the other sessions' renewals and notices. Returns 0 or
 * -errno. */
int lifecycle_start(Paymentd *p);

/* Runs it now (also what the timer does). */
void lifecycle_run(Paymentd *p);
