/* SPDX-License-Identifier: MIT */
/* Reminders (migrations/0025_booking_reminders.sql): every few seconds the reminders due are
 * published as booking.reminder events to their tenant bot's events stream ("events:tenant-ID"),
 * then marked published; at least once, each under its own event id, which the bot dedupes, so
 * a customer hears each reminder exactly once across restarts. The bot checks the booking again
 * before it tells them (booking-remind.c). */

#include "bookingd.h"
#include "outbox.h"

static const char *const names[] = {
        NULL, "event", "type", NULL, "user", "booking", "starts", "offset_min", "lang",
};

static const char *tenant_bot(void *userdata, const PGresult *res, int row) {
        return PQgetvalue(res, row, 3);
}

static const OutboxKind reminders_kind = {
        .what = "booking reminders",
        .unpublished_sql = "SELECT id, event, type, bot, \"user\", booking, starts, offset_min, lang "
                           "FROM booking_reminders_due(200)",
        .mark_sql = "UPDATE booking_reminders SET published = true WHERE id = ANY($1::bigint[])",
        .names = names,
        .n_fields = ELEMENTSOF(names),
        .bot = tenant_bot,
};

int reminders_start(Bookingd *b) {
        return outbox_new(&b->daemon, &reminders_kind, b, &b->reminders);
}
