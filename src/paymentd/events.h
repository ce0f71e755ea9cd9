/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet-paymentd's outboxes (outbox.h): order.* events (order_events, to the order's bot) in
 * order-events.c, and subscription.* (subscription_events and subscription_notices, to the sales
 * bot, which first queue the deploy, suspend and remove tasks they requested) in
 * subscription-events.c. Each publisher's userdata is the Paymentd. */

#include "outbox.h"
#include "paymentd.h"

extern const OutboxKind order_events_kind;
extern const OutboxKind subscription_events_kind;
extern const OutboxKind subscription_notices_kind;
