-- Auto-renewal (reference/protocols.md §2, saved payment methods). A client renews itself with
-- the method its latest payment saved: one made with save_method (the owner's "Pay and renew
-- automatically") that succeeded with a method. Before its paid time ends,
-- subscription_renewals() makes one renewal payment per client and paid-until (renews_until):
-- paymentd charges it to the method (payment_method_id, our payment's id as Idempotence-Key) and
-- its success extends the client as any payment does. A failure changes nothing, and the
-- reminders go out as for anyone. The owner switching it off, or a renewal refused because the
-- payer withdrew the method, forgets the method: no payment keeps its id.

ALTER TABLE subscription_payments ADD COLUMN renews_until timestamptz;   -- a renewal: the paid-until it renews
-- A renewal YooKassa refused to make is canceled without ever having been YooKassa's.
ALTER TABLE subscription_payments DROP CONSTRAINT subscription_payments_check,
        ADD CONSTRAINT subscription_payments_check CHECK (CASE WHEN status = 'new' THEN provider_id IS NULL
                                                               WHEN status = 'canceled' AND renews_until IS NOT NULL THEN true
                                                               ELSE provider_id IS NOT NULL END);
CREATE UNIQUE INDEX subscription_payments_one_renewal ON subscription_payments (tenant_id, renews_until)
        WHERE renews_until IS NOT NULL;
-- An owner's open payment and a renewal of the same plan are two payments.
DROP INDEX subscription_payments_one_open;
CREATE UNIQUE INDEX subscription_payments_one_open ON subscription_payments (tenant_id, days)
        WHERE status IN ('new', 'pending') AND renews_until IS NULL;

-- As in 0012, on the index above.
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
        ON CONFLICT (tenant_id, days) WHERE status IN ('new', 'pending') AND renews_until IS NULL DO NOTHING
        RETURNING * INTO p;
        IF NOT FOUND THEN
                SELECT * INTO p FROM subscription_payments
                WHERE tenant_id = p_tenant AND days = p_days AND status IN ('new', 'pending') AND renews_until IS NULL;
        END IF;
        RETURN NEXT p;
END $$;

-- The renewals due at @now: for each client whose bot runs, paid until within @renew_sec of @now,
-- with a saved method and no renewal of that paid-until yet, a payment of the method's plan at its
-- configured price (@plan_days[i] costs @plan_minor[i] @currency; a plan no longer sold renews
-- nothing, and the owner is reminded instead). Returns the payments made; paymentd charges every
-- renewal it finds 'new'.
CREATE FUNCTION subscription_renewals(p_now timestamptz, p_renew_sec integer, p_plan_days integer[],
                                      p_plan_minor bigint[], p_currency text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
        m subscription_payments%ROWTYPE;
        p subscription_payments%ROWTYPE;
        price bigint;
BEGIN
        FOR t IN SELECT * FROM tenants
                 WHERE status IN ('active', 'deploying', 'failed') AND paid_until > p_now
                   AND paid_until <= p_now + make_interval(secs => p_renew_sec)
                 ORDER BY id FOR UPDATE SKIP LOCKED LOOP
                SELECT * INTO m FROM subscription_payments s
                WHERE s.tenant_id = t.id AND s.status = 'succeeded' AND s.method_id IS NOT NULL
                ORDER BY s.paid_at DESC LIMIT 1;
                CONTINUE WHEN NOT FOUND;
                price := (SELECT p_plan_minor[i] FROM generate_subscripts(p_plan_days, 1) i WHERE p_plan_days[i] = m.days);
                CONTINUE WHEN price IS NULL;
                INSERT INTO subscription_payments (id, tenant_id, owner_id, days, amount_minor, currency, save_method,
                                                   method_id, renews_until)
                VALUES ('sp-' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20), t.id, m.owner_id, m.days, price,
                        p_currency, true, m.method_id, t.paid_until)
                ON CONFLICT (tenant_id, renews_until) WHERE renews_until IS NOT NULL DO NOTHING
                RETURNING * INTO p;
                CONTINUE WHEN NOT FOUND;
                INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                VALUES (t.id, 'subscription', 'renew', jsonb_build_object('payment', p.id, 'days', p.days,
                                                                          'paid_until', t.paid_until));
                RETURN NEXT p;
        END LOOP;
END $$;

-- Auto-renewal off for client @tenant, by its owner @owner (NULL: whoever, as for an operator or a
-- refusal), for @why: the saved method forgotten, and no open payment saves one any more. Returns
-- whether one was saved. P0002 when the client is not @owner's.
CREATE FUNCTION subscription_method_forget(p_tenant bigint, p_owner bigint, p_actor text, p_why text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
        had boolean;
BEGIN
        PERFORM 1 FROM tenants WHERE id = p_tenant AND (p_owner IS NULL OR owner_id = p_owner) FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no client % of %', p_tenant, p_owner USING ERRCODE = 'P0002';
        END IF;
        had := EXISTS (SELECT 1 FROM subscription_payments WHERE tenant_id = p_tenant AND status = 'succeeded'
                       AND method_id IS NOT NULL);
        UPDATE subscription_payments
        SET method_id = NULL, save_method = save_method AND status NOT IN ('new', 'pending'), updated_at = now()
        WHERE tenant_id = p_tenant AND (method_id IS NOT NULL OR (save_method AND status IN ('new', 'pending')));
        IF had THEN
                INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                VALUES (p_tenant, p_actor, 'auto_renew_off', jsonb_build_object('why', p_why));
        END IF;
        RETURN had;
END $$;

-- A renewal refused because the payer withdrew the method: the method is forgotten at once.
CREATE FUNCTION subscription_renewal_refused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        PERFORM subscription_method_forget(NEW.tenant_id, NULL, 'subscription', NEW.cancel_reason);
        RETURN NULL;
END $$;
CREATE TRIGGER subscription_renewal_refused AFTER UPDATE OF status ON subscription_payments FOR EACH ROW
        WHEN (NEW.status = 'canceled' AND OLD.status <> 'canceled' AND NEW.renews_until IS NOT NULL
              AND NEW.cancel_reason = 'permission_revoked')
        EXECUTE FUNCTION subscription_renewal_refused();

-- A renewal YooKassa refused to make at all (the method unknown to it, 400): canceled with
-- @reason, never sent to YooKassa, and its method forgotten. Returns the payment; P0002 when it is
-- no renewal still 'new'.
CREATE FUNCTION subscription_renewal_abandon(p_id text, p_reason text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        p subscription_payments%ROWTYPE;
BEGIN
        UPDATE subscription_payments SET status = 'canceled', cancel_reason = p_reason, updated_at = now()
        WHERE id = p_id AND status = 'new' AND renews_until IS NOT NULL RETURNING * INTO p;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no new renewal %', p_id USING ERRCODE = 'P0002';
        END IF;
        INSERT INTO subscription_events (payment_id, from_status, to_status, source)
        VALUES (p.id, 'new', 'canceled', 'renewal');
        PERFORM subscription_method_forget(p.tenant_id, NULL, 'subscription', p_reason);
        RETURN NEXT p;
END $$;
