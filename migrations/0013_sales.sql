-- Clients sold in the sales bot. The owner hands over the bot's token before paying: the client is
-- created pending (the token in deployd's store, never here) and removed if it is not paid by
-- pending_until. The payment that succeeds requests its deploy in the same transaction; the event
-- it writes says so, and paymentd queues the task once (keyed by the payment).

ALTER TABLE tenants ADD COLUMN pending_until timestamptz;   -- an unpaid sales client: removed after this
CREATE INDEX tenants_pending_until ON tenants (pending_until) WHERE status = 'pending';

-- The deploy action the event's payment requested ('deploy' for a new client), queued by paymentd.
ALTER TABLE subscription_events ADD COLUMN deploy text CHECK (deploy IN ('deploy', 'resume'));

-- Adds @owner's pending client for the bot @bot_id, to be paid within @ttl_sec. The same owner
-- adding the same bot again while it is still pending gets that client back with the new name
-- and time zone. Errors, each changing nothing: 22023 for an unknown time zone, 23505 when the bot
-- is another client's.
CREATE FUNCTION tenant_add_pending(p_name text, p_owner bigint, p_bot_id bigint, p_bot_username text, p_time_zone text,
                                   p_ttl_sec integer, p_actor text)
RETURNS SETOF tenants LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
                RAISE EXCEPTION 'unknown time zone %', p_time_zone USING ERRCODE = '22023';
        END IF;
        SELECT * INTO t FROM tenants WHERE bot_id = p_bot_id AND status <> 'removed' FOR UPDATE;
        IF FOUND THEN
                IF t.owner_id <> p_owner OR t.status <> 'pending' OR t.pending_until IS NULL THEN
                        RAISE EXCEPTION 'bot % is a client''s already', p_bot_id USING ERRCODE = '23505';
                END IF;
                UPDATE tenants SET name = btrim(p_name), bot_username = p_bot_username, time_zone = p_time_zone,
                                   pending_until = now() + make_interval(secs => p_ttl_sec), updated_at = now()
                WHERE id = t.id RETURNING * INTO t;
                INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                VALUES (t.id, p_actor, 'update', jsonb_build_object('name', t.name, 'bot_username', t.bot_username,
                                                                    'time_zone', t.time_zone));
                RETURN NEXT t;
                RETURN;
        END IF;
        INSERT INTO tenants (name, owner_id, bot_id, bot_username, time_zone, pending_until)
        VALUES (btrim(p_name), p_owner, p_bot_id, p_bot_username, p_time_zone, now() + make_interval(secs => p_ttl_sec))
        RETURNING * INTO t;
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, 'add', jsonb_build_object('name', t.name, 'owner_id', t.owner_id,
                                                         'bot_username', t.bot_username, 'time_zone', t.time_zone,
                                                         'pending_until', t.pending_until));
        RETURN NEXT t;
END $$;

-- Marks removed the pending sales clients whose time ran out, except those with a payment opened
-- in the last day (YooKassa ends an unpaid one within that): money that arrives must find its
-- client. Returns their ids; deployd deletes their tokens.
CREATE FUNCTION tenant_expire_pending(p_actor text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
BEGIN
        FOR t IN SELECT * FROM tenants x
                 WHERE x.status = 'pending' AND x.pending_until < now()
                   AND NOT EXISTS (SELECT 1 FROM subscription_payments s WHERE s.tenant_id = x.id
                                   AND s.status IN ('new', 'pending') AND s.created_at > now() - interval '1 day')
                 ORDER BY x.id LIMIT 500 FOR UPDATE SKIP LOCKED LOOP
                UPDATE tenants SET status = 'removed', pending_until = NULL, updated_at = now() WHERE id = t.id;
                INSERT INTO tenant_audit (tenant_id, actor, action, detail)
                VALUES (t.id, p_actor, 'expire', jsonb_build_object('status', 'removed', 'pending_until', t.pending_until));
                RETURN NEXT t.id;
        END LOOP;
END $$;

-- As in 0012, and: a success for a pending client requests its deploy (recorded in the event);
-- a success for a client removed meanwhile is recorded all the same (the event tells the
-- operators), since money that arrived is never ignored.
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
                        END IF;
                END IF;
        END IF;
        INSERT INTO subscription_events (payment_id, from_status, to_status, source, deploy)
        VALUES (p.id, was, next, p_source, action);
        RETURN NEXT p;
END $$;
