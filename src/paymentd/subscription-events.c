/* SPDX-License-Identifier: MIT */
/* subscription.* events for the sales bot, which tells the owner: those of payments
 * (subscription_events) and those of the lifecycle (subscription_notices). Before one is
 * published, the task it requested is queued with Deploy1.EnqueueOnce, keyed by the payment or the
 * notice, so that a publication repeated after a crash queues nothing twice: the deploy of a new
 * client or the resume of one suspended for non-payment, the suspension at the end of the paid
 * time, the removal after it. The operators hear of each sale, free trial, renewal (and automatic
 * renewal refused), refund, suspension and removal. A notice whose client has been paid for since (a renewal moved paid_until) is
 * published as "stale", for nobody to act on. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "deploy-bus.h"
#include "log.h"
#include "money.h"
#include "notify.h"
#include "events.h"

#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)

#define EVENTS_SQL                                                                                      \
        "SELECT e.id, 'sub:' || e.id, 'subscription.' || e.to_status, s.owner_id, s.id, s.tenant_id, "  \
        "t.name, t.bot_username, s.days, s.amount_minor, s.currency, coalesce(s.cancel_reason, ''), "   \
        "e.from_status, coalesce(e.deploy, ''), t.status::text, "                                      \
        "coalesce(extract(epoch FROM t.paid_until)::bigint::text, ''), e.source, "                     \
        "(s.renews_until IS NOT NULL)::text, s.trial::text "                                            \
        "FROM subscription_events e JOIN subscription_payments s ON s.id = e.payment_id "               \
        "JOIN tenants t ON t.id = s.tenant_id "                                                        \
        "WHERE NOT e.published ORDER BY e.id LIMIT " XSTRINGIFY(OUTBOX_BATCH)

static const char *const names[] = {
        NULL, "event", "type", "user", "payment", "client", "name", "bot_username", "days", "amount_minor",
        "currency", "reason", "from", "deploy", "client_status", "paid_until", "source",
        "renewal", "trial",
};

static const char *sales_bot(void *userdata, const PGresult *res, int row) {
        Paymentd *p = userdata;

        return p->daemon.config.sales_bot;
}

#define NOTICES_SQL                                                                                     \
        "SELECT n.id, 'notice:' || n.id, 'subscription.' || n.kind, t.owner_id, t.id, t.name, "         \
        "t.bot_username, extract(epoch FROM n.paid_until)::bigint::text, n.before_sec, "               \
        "(t.paid_until IS DISTINCT FROM n.paid_until)::text "                                          \
        "FROM subscription_notices n JOIN tenants t ON t.id = n.tenant_id "                            \
        "WHERE NOT n.published ORDER BY n.id LIMIT " XSTRINGIFY(OUTBOX_BATCH)

static const char *const notice_names[] = {
        NULL, "event", "type", "user", "client", "name", "bot_username", "paid_until", "before_sec", "stale",
};

#define F(name) outbox_publication_field(pub, name)

/* What the operators hear of a success or a refund. */
static void tell_operators(Publication *pub) {
        Paymentd *p = outbox_publication_userdata(pub);
        char text[768], amount[48], until[32] = "?";
        time_t t = (time_t) strtoll(F("paid_until"), NULL, 10);
        struct tm tm;

        if (money_format(strtoll(F("amount_minor"), NULL, 10), 2, amount, sizeof amount) < 0)
                snprintf(amount, sizeof amount, "?");
        if (t > 0 && gmtime_r(&t, &tm))
                strftime(until, sizeof until, "%Y-%m-%d", &tm);
        if (streq(F("type"), "subscription.succeeded") && streq(F("client_status"), "removed"))
                snprintf(text, sizeof text, "⚠️ Payment %s (%s %s) arrived for client #%s «%s», which is removed: refund "
                         "it or restore the client.", F("payment"), amount, F("currency"), F("client"), F("name"));
        else if (streq(F("type"), "subscription.succeeded") && streq(F("trial"), "true"))
                snprintf(text, sizeof text, "🎁 New client #%s «%s» (@%s) started a free trial of %s days; its bot is "
                         "being deployed.", F("client"), F("name"), F("bot_username"), F("days"));
        else if (streq(F("type"), "subscription.succeeded") && !isempty(F("deploy")))
                snprintf(text, sizeof text, "💰 New client #%s «%s» (@%s) paid %s %s for %s days; its bot is being "
                         "deployed.", F("client"), F("name"), F("bot_username"), amount, F("currency"), F("days"));
        else if (streq(F("type"), "subscription.succeeded"))
                snprintf(text, sizeof text, "💰 Client #%s «%s» (@%s) renewed%s: %s %s for %s days, paid until %s.",
                         F("client"), F("name"), F("bot_username"), streq(F("renewal"), "true") ? " automatically" : "",
                         amount, F("currency"), F("days"), until);
        else if (streq(F("type"), "subscription.canceled") && streq(F("renewal"), "true"))
                snprintf(text, sizeof text, "⚠️ The automatic renewal of client #%s «%s» (@%s), %s %s, was refused (%s); "
                         "its owner has been told and is reminded as usual.", F("client"), F("name"), F("bot_username"),
                         amount, F("currency"), F("reason"));
        else if (streq(F("type"), "subscription.refunded"))
                snprintf(text, sizeof text, "↩️ Payment %s of client #%s «%s» (%s %s) was refunded by YooKassa; its days "
                         "stay until you take them back.", F("payment"), F("client"), F("name"), amount, F("currency"));
        else if (streq(F("type"), "subscription.expired") && !streq(F("stale"), "true"))
                snprintf(text, sizeof text, "⏸ Client #%s «%s» (@%s) is being suspended: its paid time ended %s.",
                         F("client"), F("name"), F("bot_username"), until);
        else if (streq(F("type"), "subscription.removed") && !streq(F("stale"), "true"))
                snprintf(text, sizeof text, "🗑 Client #%s «%s» (@%s) is being removed: unpaid since %s.", F("client"),
                         F("name"), F("bot_username"), until);
        else
                return;
        notify_operators(p->daemon.redis, &p->daemon.config, text);
}

static int on_enqueued(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Publication *pub = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_warning("Cannot queue the task of %s for client %s (retried): %s", F("event"), F("client"), e->message);
                outbox_publication_ready(pub, -EIO);
                return 0;
        }
        tell_operators(pub);
        outbox_publication_ready(pub, 0);
        return 0;
}

/* Queues @action of the event's client, once per @key, then publishes @pub. */
static void queue_task(Publication *pub, const char *action, const char *key) {
        Paymentd *p = outbox_publication_userdata(pub);
        int r;

        r = sd_bus_call_method_async(p->daemon.bus, NULL, DEPLOY_BUS_NAME, DEPLOY_BUS_PATH, DEPLOY_BUS_INTERFACE,
                                     "EnqueueOnce", on_enqueued, pub, "xsss", strtoll(F("client"), NULL, 10), action,
                                     DEPLOY_ACTOR_SUBSCRIPTION, key);
        if (r < 0) {
                log_warning_errno(r, "Cannot ask deployd to %s client %s (retried): %m", action, F("client"));
                outbox_publication_ready(pub, r);
        }
}

static void prepare(Publication *pub) {
        char key[96];

        if (!streq(F("type"), "subscription.succeeded") || isempty(F("deploy"))) {
                tell_operators(pub);
                return outbox_publication_ready(pub, 0);
        }
        snprintf(key, sizeof key, "subscription:%s", F("payment"));
        queue_task(pub, F("deploy"), key);
}

static void prepare_notice(Publication *pub) {
        const char *action = streq(F("type"), "subscription.expired") ? "suspend"
                             : streq(F("type"), "subscription.removed") ? "remove" : NULL;

        if (!action || streq(F("stale"), "true")) {
                tell_operators(pub);
                return outbox_publication_ready(pub, 0);
        }
        queue_task(pub, action, F("event"));   /* "notice:ID" */
}

const OutboxKind subscription_events_kind = {
        .what = "subscription events",
        .unpublished_sql = EVENTS_SQL,
        .mark_sql = "UPDATE subscription_events SET published = true WHERE id = ANY($1::bigint[])",
        .names = names,
        .n_fields = ELEMENTSOF(names),
        .bot = sales_bot,
        .prepare = prepare,
};

const OutboxKind subscription_notices_kind = {
        .what = "subscription notices",
        .unpublished_sql = NOTICES_SQL,
        .mark_sql = "UPDATE subscription_notices SET published = true WHERE id = ANY($1::bigint[])",
        .names = notice_names,
        .n_fields = ELEMENTSOF(notice_names),
        .bot = sales_bot,
        .prepare = prepare_notice,
};
