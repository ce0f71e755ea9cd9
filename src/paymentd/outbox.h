/* SPDX-License-Identifier: MIT */
#pragma once

/* The order.* event publisher. order_events rows are the outbox: each is XADDed to the stream
 * "events:<bot>" of the order's bot, then marked published. At least once: a crash between the
 * two publishes it again with the same "event" id, which consumers dedupe. */

#include "paymentd.h"

/* Creates the publisher; it also runs on its own every few seconds. Returns 0 or -ENOMEM. */
int outbox_new(Paymentd *p, Outbox **ret);

/* Publishes what is unpublished now (or soon after a run under way). */
void outbox_kick(Outbox *o);

/* Accepts NULL; returns NULL. Publications under way are abandoned (they are redone at start). */
Outbox *outbox_free(Outbox *o);
