-- Wakes tgfleet-paymentd (which LISTENs on tgfleet_subscriptions) when another session, such as
-- tgfleetctl subscriptions run, makes a renewal to charge or a notice to publish: they go at once,
-- not at paymentd's next run. The payload names the table. A notification is sent on commit only,
-- once per transaction and payload, so a run of a thousand notices sends one.

CREATE FUNCTION subscription_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_notify('tgfleet_subscriptions', TG_TABLE_NAME);
        RETURN NULL;
END $$;

CREATE TRIGGER subscription_notices_wake AFTER INSERT ON subscription_notices
        FOR EACH ROW EXECUTE FUNCTION subscription_wake();
CREATE TRIGGER subscription_renewals_wake AFTER INSERT ON subscription_payments
        FOR EACH ROW WHEN (NEW.renews_until IS NOT NULL) EXECUTE FUNCTION subscription_wake();
