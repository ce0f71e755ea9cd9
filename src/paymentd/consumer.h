/* SPDX-License-Identifier: MIT */
#pragma once

/* The consumer of the "payments" stream (group "paymentd"): every Heleket event is confirmed and
 * applied (payment_confirm) and acknowledged only then. An event that could not be confirmed
 * (Heleket or the database unavailable) stays pending and comes again after the retry pause;
 * events another paymentd left idle for [Payments] ClaimIdleSec are taken over (XAUTOCLAIM). At
 * start the consumer's own pending events are handled first, so a kill -9 loses nothing. An event
 * of a provider paymentd does not handle yet (YooKassa) is moved, whole, to "payments:dead". */

#include "paymentd.h"

/* Creates the group if needed and starts reading. Returns 0 or -ENOMEM. */
int consumer_new(Paymentd *p, Consumer **ret);

/* Accepts NULL; returns NULL. Call after the HTTP client, the database and the Redis clients are
 * freed. */
Consumer *consumer_free(Consumer *c);
