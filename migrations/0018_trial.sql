-- The free trial ([Sales] TrialDays=): once per Telegram user and once per bot, whoever owns it
-- then, kept by the database (subscription_trials' two keys), not by a read before a write. A
-- trial is a payment of nothing that was never YooKassa's and succeeds as it is made: the same
-- subscription_payment_apply() extends the client, requests its deploy and writes the event the
-- sales bot and the operators hear of, so that a trial is a new client like any other.

ALTER TABLE subscription_payments ADD COLUMN trial boolean NOT NULL DEFAULT false,
        DROP CONSTRAINT subscription_payments_amount_minor_check,
        ADD CONSTRAINT subscription_payments_amount_minor_check CHECK (amount_minor > 0 OR (trial AND amount_minor = 0)),
        DROP CONSTRAINT subscription_payments_check,
        ADD CONSTRAINT subscription_payments_check CHECK (CASE WHEN trial THEN provider_id IS NULL AND renews_until IS NULL
                                                               WHEN status = 'new' THEN provider_id IS NULL
                                                               WHEN status = 'canceled' AND renews_until IS NOT NULL THEN true
                                                               ELSE provider_id IS NOT NULL END);
-- A trial is never open: it takes no place among the open payments of a plan.
DROP INDEX subscription_payments_one_open;
CREATE UNIQUE INDEX subscription_payments_one_open ON subscription_payments (tenant_id, days)
        WHERE status IN ('new', 'pending') AND renews_until IS NULL AND NOT trial;

-- As in 0016, on the index above.
CREATE OR REPLACE FUNCTION subscription_payment_open(p_id text, p_tenant bigint, p_owner bigint, p_days integer,
                                                     p_amount_minor bigint, p_currency text, p_save_method boolean)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        p subscription_payments%ROWTYPE;
BEGIN
        PERFORM 1 FROM tenants WHERE id = p_tenant AND owner_id = p_owner AND status <> 'removed';
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no client % of %', p_tenant, p_owner USING ERRCODE = 'P0002';
        END IF;
        INSERT INTO subscription_payments (id, tenant_id, owner_id, days, amount_minor, currency, save_method)
        VALUES (p_id, p_tenant, p_owner, p_days, p_amount_minor, p_currency, p_save_method)
        ON CONFLICT (tenant_id, days) WHERE status IN ('new', 'pending') AND renews_until IS NULL AND NOT trial DO NOTHING
        RETURNING * INTO p;
        IF NOT FOUND THEN
                SELECT * INTO p FROM subscription_payments
                WHERE tenant_id = p_tenant AND days = p_days AND status IN ('new', 'pending') AND renews_until IS NULL
                  AND NOT trial;
        END IF;
        RETURN NEXT p;
END $$;

CREATE TABLE subscription_trials (
        owner_id        bigint PRIMARY KEY,                 -- one trial per Telegram user
        bot_id          bigint NOT NULL UNIQUE,             -- and one per bot
        payment_id      text NOT NULL UNIQUE REFERENCES subscription_payments (id),
        at              timestamptz NOT NULL DEFAULT now()
);

-- Starts the trial of @days for @owner's new (pending) client @tenant as payment @p_id, or returns
-- the trial this client already has (a second tap). Errors, each changing nothing: P0002 when the
-- client is not @owner's or is gone, 55000 when it is not new, 23505 when @owner or the client's
-- bot has had a trial.
CREATE FUNCTION subscription_trial_start(p_id text, p_tenant bigint, p_owner bigint, p_days integer, p_currency text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
        p subscription_payments%ROWTYPE;
BEGIN
        SELECT * INTO t FROM tenants WHERE id = p_tenant AND owner_id = p_owner AND status <> 'removed' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no client % of %', p_tenant, p_owner USING ERRCODE = 'P0002';
        END IF;
        SELECT s.* INTO p FROM subscription_trials r JOIN subscription_payments s ON s.id = r.payment_id
        WHERE s.tenant_id = p_tenant;
        IF FOUND THEN
                RETURN NEXT p;
                RETURN;
        END IF;
        IF t.status <> 'pending' THEN
                RAISE EXCEPTION 'client % is not new', p_tenant USING ERRCODE = '55000';
        END IF;
        INSERT INTO subscription_payments (id, tenant_id, owner_id, days, amount_minor, currency, trial)
        VALUES (p_id, p_tenant, p_owner, p_days, 0, p_currency, true);
        -- Raises 23505, undoing the payment, when the user or the bot had one.
        INSERT INTO subscription_trials (owner_id, bot_id, payment_id) VALUES (p_owner, t.bot_id, p_id);
        RETURN QUERY SELECT * FROM subscription_payment_apply(NULL, p_id, 'succeeded', 0, p_currency, false, false,
                                                              NULL, NULL, 'trial');
END $$;

-- As in 0015, and whether it was a trial.
CREATE OR REPLACE FUNCTION subscription_payment_json(s subscription_payments) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('id', s.id, 'client_id', s.tenant_id, 'owner_id', s.owner_id, 'days', s.days,
                                  'amount', minor_text(s.amount_minor), 'amount_minor', s.amount_minor,
                                  'currency', s.currency, 'status', s.status, 'provider_id', s.provider_id,
                                  'auto_renew', s.save_method, 'cancel_reason', s.cancel_reason, 'test', s.test,
                                  'trial', s.trial, 'created_at', utc_text(s.created_at), 'paid_at', utc_text(s.paid_at))
$$;
