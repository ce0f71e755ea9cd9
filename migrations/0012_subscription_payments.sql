-- Subscriptions paid through YooKassa (reference/protocols.md §2). A payment is ours first: its id
-- is YooKassa's Idempotence-Key and its metadata.payment, so that a call repeated after a lost
-- answer is the same payment. Its price comes from paymentd's configuration, never from the
-- caller. Only what paymentd fetched from YooKassa (GET /v3/payments/ID) moves its status, and a
-- success extends the client exactly once, through tenant_extend keyed by the payment.

CREATE TABLE subscription_payments (
        id              text PRIMARY KEY CHECK (id ~ '^sp-[0-9a-f]{20}$'),
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        owner_id        bigint NOT NULL CHECK (owner_id > 0),
        days            integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
        amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
        currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        provider_id     text UNIQUE CHECK (length(provider_id) BETWEEN 1 AND 64),   -- YooKassa's id, once made
        confirmation_url text,
        save_method     boolean NOT NULL DEFAULT false,     -- the owner asked for auto-renewal
        method_id       text,                               -- the saved method, once paid with one
        status          text NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'pending', 'succeeded', 'canceled', 'refunded')),
        cancel_reason   text,
        test            boolean NOT NULL DEFAULT false,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        paid_at         timestamptz,
        CHECK ((status = 'new') = (provider_id IS NULL))
);
-- "A second tap on the same plan gets the same payment": one open payment per client and plan.
CREATE UNIQUE INDEX subscription_payments_one_open ON subscription_payments (tenant_id, days)
        WHERE status IN ('new', 'pending');
CREATE INDEX subscription_payments_open ON subscription_payments (created_at) WHERE status IN ('new', 'pending');
CREATE INDEX subscription_payments_by_tenant ON subscription_payments (tenant_id, created_at);

-- Every change, and the outbox of subscription.* events: paymentd publishes each row after its
-- transaction commits and marks it published (consumers dedupe by the event id).
CREATE TABLE subscription_events (
        id              bigserial PRIMARY KEY,
        payment_id      text NOT NULL REFERENCES subscription_payments (id),
        from_status     text NOT NULL,
        to_status       text NOT NULL,
        source          text NOT NULL,          -- 'webhook', 'check', 'reconcile', …
        at              timestamptz NOT NULL DEFAULT now(),
        published       boolean NOT NULL DEFAULT false
);
CREATE INDEX subscription_events_unpublished ON subscription_events (id) WHERE NOT published;

-- Opens a payment of @days for @owner's client @tenant at the configured price, or returns the one
-- already open for that client and plan. P0002 when the client is not @owner's or is gone.
CREATE FUNCTION subscription_payment_open(p_id text, p_tenant bigint, p_owner bigint, p_days integer,
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
        ON CONFLICT (tenant_id, days) WHERE status IN ('new', 'pending') DO NOTHING
        RETURNING * INTO p;
        IF NOT FOUND THEN
                SELECT * INTO p FROM subscription_payments
                WHERE tenant_id = p_tenant AND days = p_days AND status IN ('new', 'pending');
        END IF;
        RETURN NEXT p;
END $$;

-- Records YooKassa's answer to the creation: its id and where the payer pays. A replay changes
-- nothing; another id for the same payment is refused (22023).
CREATE FUNCTION subscription_payment_created(p_id text, p_provider_id text, p_url text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        p subscription_payments%ROWTYPE;
BEGIN
        SELECT * INTO p FROM subscription_payments WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no payment %', p_id USING ERRCODE = 'P0002';
        END IF;
        IF p.provider_id IS NOT NULL AND p.provider_id <> p_provider_id THEN
                RAISE EXCEPTION 'payment % is YooKassa''s %, not %', p_id, p.provider_id, p_provider_id USING ERRCODE = '22023';
        END IF;
        IF p.status = 'new' THEN
                UPDATE subscription_payments SET provider_id = p_provider_id, confirmation_url = p_url, status = 'pending',
                                                 updated_at = now()
                WHERE id = p_id RETURNING * INTO p;
                INSERT INTO subscription_events (payment_id, from_status, to_status, source) VALUES (p_id, 'new', 'pending', 'create');
        END IF;
        RETURN NEXT p;
END $$;

-- Applies what YooKassa says of the payment @provider_id, whose metadata names our @id (both
-- fetched, never a notification's word; @id finds a payment whose creation answer was lost):
-- @status with its amount, currency, test flag, saved method and cancellation reason, from
-- @source. 'succeeded' extends the client by the payment's days, once, in this transaction.
-- Errors, each changing nothing: P0002 for a payment that is not ours; 22023 for an amount or
-- currency other than the payment's, or a test payment in a live shop (@live).
CREATE FUNCTION subscription_payment_apply(p_provider_id text, p_id text, p_status text, p_amount_minor bigint, p_currency text,
                                           p_test boolean, p_live boolean, p_method_id text, p_reason text,
                                           p_source text)
RETURNS SETOF subscription_payments LANGUAGE plpgsql AS $$
DECLARE
        p subscription_payments%ROWTYPE;
        was text;
        next text;
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
        INSERT INTO subscription_events (payment_id, from_status, to_status, source)
        VALUES (p.id, was, next, p_source);
        IF next = 'succeeded' THEN
                PERFORM tenant_extend(p.tenant_id, p.days, 'subscription:' || p.id, 'paymentd');
        END IF;
        RETURN NEXT p;
END $$;
