-- Clients sold in the sales bot. The owner hands over the bot's token before paying: the client is
-- created pending (the token in deployd's store, never here) and removed if it is not paid by
-- pending_until. The payment that succeeds requests its deploy in the same transaction (0014's
-- subscription_payment_apply); the event it writes says so, and paymentd queues the task once
-- (keyed by the payment).

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
        SELECT * INTO t FROM tenants WHERE bot_id = p_bot_id AND status <> 'removed' FOR UPDATE;
        IF NOT FOUND THEN
                SELECT * INTO t FROM tenant_add(p_name, p_owner, p_bot_id, p_bot_username, p_time_zone, p_actor);
                UPDATE tenants SET pending_until = now() + make_interval(secs => p_ttl_sec) WHERE id = t.id RETURNING * INTO t;
                RETURN NEXT t;
                RETURN;
        END IF;
        IF t.owner_id <> p_owner OR t.status <> 'pending' OR t.pending_until IS NULL THEN
                RAISE EXCEPTION 'bot % is a client''s already', p_bot_id USING ERRCODE = '23505';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
                RAISE EXCEPTION 'unknown time zone %', p_time_zone USING ERRCODE = '22023';
        END IF;
        UPDATE tenants SET name = btrim(p_name), bot_username = p_bot_username, time_zone = p_time_zone,
                           pending_until = now() + make_interval(secs => p_ttl_sec), updated_at = now()
        WHERE id = t.id RETURNING * INTO t;
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, 'update', jsonb_build_object('name', t.name, 'bot_username', t.bot_username,
                                                            'time_zone', t.time_zone));
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
