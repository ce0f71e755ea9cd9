-- The subscription lifecycle: reminders before a client's paid time ends, suspension when it has
-- ended, a last warning, then removal. subscription_lifecycle() decides what is due at a given
-- moment and records each step once (a notice, unique per client, kind and paid-until), in one
-- transaction with the request it makes; paymentd publishes the notices (the sales bot tells
-- the owner) and queues the suspend or remove task, once, keyed by the notice. So a run killed at
-- any point and run again sends nothing twice and suspends nothing twice, and a renewal, which
-- moves paid_until, silences the notices of the old date.

-- Set when the lifecycle suspends a client for non-payment: a payment then resumes it.
ALTER TABLE tenants ADD COLUMN suspended_for text CHECK (suspended_for IN ('expired'));

CREATE TABLE subscription_notices (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        kind            text NOT NULL CHECK (kind IN ('remind', 'expired', 'last_warning', 'removed')),
        paid_until      timestamptz NOT NULL,       -- the paid-until it is about
        before_sec      integer NOT NULL DEFAULT 0, -- a reminder: how long before paid_until
        at              timestamptz NOT NULL,       -- the moment of the run that made it
        published       boolean NOT NULL DEFAULT false,
        UNIQUE (tenant_id, kind, paid_until, before_sec)
);
CREATE INDEX subscription_notices_unpublished ON subscription_notices (id) WHERE NOT published;

-- What is due at @now: reminders @remind_sec before paid_until (only the nearest one due, each at
-- most once per paid-until), suspension @grace_sec after it, a last warning @warn_sec before the
-- removal and the removal @remove_sec after the suspension's due time. Returns the notices it made.
CREATE FUNCTION subscription_lifecycle(p_now timestamptz, p_remind_sec integer[], p_grace_sec integer,
                                       p_remove_sec integer, p_warn_sec integer)
RETURNS SETOF subscription_notices LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
        n subscription_notices%ROWTYPE;
        before integer;
        ends timestamptz;
BEGIN
        -- Reminders, for clients whose bot runs.
        FOR t IN SELECT * FROM tenants
                 WHERE status IN ('active', 'deploying', 'failed') AND paid_until > p_now
                   AND paid_until <= p_now + make_interval(secs => (SELECT coalesce(max(x), 0) FROM unnest(p_remind_sec) x))
                 ORDER BY id FOR UPDATE SKIP LOCKED LOOP
                SELECT min(x) INTO before FROM unnest(p_remind_sec) x WHERE t.paid_until <= p_now + make_interval(secs => x);
                CONTINUE WHEN before IS NULL;
                -- A nearer reminder already sent (a run missed meanwhile) makes this one pointless.
                CONTINUE WHEN EXISTS (SELECT 1 FROM subscription_notices WHERE tenant_id = t.id AND kind = 'remind'
                                      AND paid_until = t.paid_until AND before_sec <= before);
                INSERT INTO subscription_notices (tenant_id, kind, paid_until, before_sec, at)
                VALUES (t.id, 'remind', t.paid_until, before, p_now) ON CONFLICT DO NOTHING RETURNING * INTO n;
                IF FOUND THEN
                        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                        VALUES (t.id, 'subscription', 'remind', jsonb_build_object('paid_until', t.paid_until,
                                                                                   'before_sec', before));
                        RETURN NEXT n;
                END IF;
        END LOOP;
        -- Suspension, once the paid time and the grace are over.
        FOR t IN SELECT * FROM tenants
                 WHERE status IN ('active', 'deploying', 'failed') AND paid_until + make_interval(secs => p_grace_sec) <= p_now
                 ORDER BY id FOR UPDATE SKIP LOCKED LOOP
                INSERT INTO subscription_notices (tenant_id, kind, paid_until, at)
                VALUES (t.id, 'expired', t.paid_until, p_now) ON CONFLICT DO NOTHING RETURNING * INTO n;
                CONTINUE WHEN NOT FOUND;
                UPDATE tenants SET suspended_for = 'expired' WHERE id = t.id;
                PERFORM tenant_request(t.id, 'suspend', 'subscription');
                RETURN NEXT n;
        END LOOP;
        -- The last warning, then the removal, of clients suspended for non-payment.
        FOR t IN SELECT * FROM tenants
                 WHERE status = 'suspended' AND suspended_for = 'expired'
                   AND paid_until + make_interval(secs => p_grace_sec + p_remove_sec - p_warn_sec) <= p_now
                 ORDER BY id FOR UPDATE SKIP LOCKED LOOP
                ends := t.paid_until + make_interval(secs => p_grace_sec + p_remove_sec);
                IF ends > p_now THEN
                        INSERT INTO subscription_notices (tenant_id, kind, paid_until, at)
                        VALUES (t.id, 'last_warning', t.paid_until, p_now) ON CONFLICT DO NOTHING RETURNING * INTO n;
                        IF FOUND THEN
                                INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                                VALUES (t.id, 'subscription', 'last_warning', jsonb_build_object('removal', ends));
                                RETURN NEXT n;
                        END IF;
                        CONTINUE;
                END IF;
                INSERT INTO subscription_notices (tenant_id, kind, paid_until, at)
                VALUES (t.id, 'removed', t.paid_until, p_now) ON CONFLICT DO NOTHING RETURNING * INTO n;
                CONTINUE WHEN NOT FOUND;
                PERFORM tenant_request(t.id, 'remove', 'subscription');
                RETURN NEXT n;
        END LOOP;
END $$;

-- As in 0012, and: a success for a pending client (0013) requests its deploy; one for a client
-- suspended for non-payment resumes it (requested here when its bot is already stopped; queued
-- after its suspension otherwise, which the deploy queue runs in order); one for a client removed
-- meanwhile is recorded all the same (the event tells the operators), since money that arrived is
-- never ignored.
CREATE OR REPLACE FUNCTION subscription_payment_apply(p_provider_id text, p_id text, p_status text, p_amount_minor bigint,
                                                      p_currency text, p_test boolean, p_live boolean, p_method_id text,
                                                      p_reason text, p_source text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        p subscription_payments%ROWTYPE;
        t tenants%ROWTYPE;
        was text;
        next text;
        action text;
BEGIN
        SELECT * INTO p FROM subscription_payments
        WHERE provider_id = p_provider_id OR (provider_id IS NULL AND id = p_id) FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no payment of ours is YooKassa''s %', p_provider_id USING ERRCODE = 'P0002';
        END IF;
        IF p_amount_minor <> p.amount_minor OR p_currency <> p.currency THEN
                RAISE EXCEPTION 'payment % is % %, YooKassa says % %', p.id, p.amount_minor, p.currency,
                        p_amount_minor, p_currency USING ERRCODE = '22023';
        END IF;
        IF p_test AND p_live THEN
                RAISE EXCEPTION 'payment % is a test payment in a live shop', p.id USING ERRCODE = '22023';
        END IF;
        next := CASE
                WHEN p.status IN ('new', 'pending') AND p_status IN ('succeeded', 'canceled') THEN p_status
                WHEN p.status = 'succeeded' AND p_status = 'refunded' THEN 'refunded'
        END;
        IF next IS NULL THEN
                RETURN NEXT p;   -- no change: a replay, or a status that moves nothing
                RETURN;
        END IF;
        was := p.status;
        UPDATE subscription_payments
        SET status = next, updated_at = now(), test = p_test, provider_id = p_provider_id,
            paid_at = CASE WHEN next = 'succeeded' THEN now() ELSE paid_at END,
            method_id = CASE WHEN next = 'succeeded' AND p.save_method THEN nullif(p_method_id, '') ELSE method_id END,
            cancel_reason = CASE WHEN next = 'canceled' THEN p_reason ELSE cancel_reason END
        WHERE id = p.id RETURNING * INTO p;
        IF next = 'succeeded' THEN
                SELECT * INTO t FROM tenants WHERE id = p.tenant_id FOR UPDATE;
                IF t.status <> 'removed' THEN
                        PERFORM tenant_extend(p.tenant_id, p.days, 'subscription:' || p.id, 'paymentd');
                        IF t.status = 'pending' THEN
                                UPDATE tenants SET pending_until = NULL WHERE id = t.id;
                                PERFORM tenant_request(t.id, 'deploy', 'subscription');
                                action := 'deploy';
                        ELSIF t.suspended_for = 'expired' THEN
                                UPDATE tenants SET suspended_for = NULL WHERE id = t.id;
                                IF t.status = 'suspended' THEN
                                        PERFORM tenant_request(t.id, 'resume', 'subscription');
                                END IF;
                                action := 'resume';
                        END IF;
                END IF;
        END IF;
        INSERT INTO subscription_events (payment_id, from_status, to_status, source, deploy)
        VALUES (p.id, was, next, p_source, action);
        RETURN NEXT p;
END $$;
