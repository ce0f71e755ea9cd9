-- The booking platform's businesses ("tenants", "clients"): each has its own Telegram bot,
-- deployed on the host by tgfleet-deployd. A tenant's bot token is never stored here: it is a
-- credential file of its unit. Every change is in tenant_audit (who, when, what).

CREATE TYPE tenant_status AS ENUM (
        'pending',       -- added, no deploy finished yet
        'deploying',     -- a deploy, resume or redeploy task is queued or running
        'active',        -- its bot runs
        'suspended',     -- stopped by the operator or at the end of its subscription
        'failed',        -- the last deploy task was dead-lettered
        'removed'        -- gone: unit stopped, webhook and token deleted; the row stays for audit
);

CREATE TABLE tenants (
        id              bigserial PRIMARY KEY,
        name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
        owner_id        bigint NOT NULL CHECK (owner_id > 0),       -- the owner's Telegram user id
        bot_id          bigint NOT NULL CHECK (bot_id > 0),         -- from getMe
        bot_username    text NOT NULL CHECK (bot_username ~ '^[A-Za-z0-9_]{5,32}$'),
        status          tenant_status NOT NULL DEFAULT 'pending',
        paid_until      timestamptz,
        time_zone       text NOT NULL DEFAULT 'Europe/Moscow',
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One live tenant per Telegram bot: a token cannot be handed over twice.
CREATE UNIQUE INDEX tenants_one_per_bot ON tenants (bot_id) WHERE status <> 'removed';
CREATE INDEX tenants_by_status ON tenants (status);

-- Append-only: who did what to which tenant, and when.
CREATE TABLE tenant_audit (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        at              timestamptz NOT NULL DEFAULT now(),
        actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),   -- "api", "master:<id>", "deployd@host", …
        action          text NOT NULL,
        detail          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX tenant_audit_by_tenant ON tenant_audit (tenant_id, at);
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER tenant_audit_append_only BEFORE UPDATE OR DELETE ON tenant_audit
        FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Extensions of a subscription, once per idempotency key.
CREATE TABLE tenant_extensions (
        idempotency_key text PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 200),
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        days            integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
        paid_until      timestamptz NOT NULL,   -- the result, returned again on a replay
        at              timestamptz NOT NULL DEFAULT now()
);

-- Adds a tenant and audits it. Errors: 22023 for an unknown time zone; 23505 when the bot is
-- another live tenant's already.
CREATE FUNCTION tenant_add(p_name text, p_owner bigint, p_bot_id bigint, p_bot_username text, p_time_zone text,
                           p_actor text)
RETURNS SETOF tenants LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
                RAISE EXCEPTION 'unknown time zone %', p_time_zone USING ERRCODE = '22023';
        END IF;
        INSERT INTO tenants (name, owner_id, bot_id, bot_username, time_zone)
        VALUES (btrim(p_name), p_owner, p_bot_id, p_bot_username, p_time_zone)
        RETURNING * INTO t;
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, 'add', jsonb_build_object('name', t.name, 'owner_id', t.owner_id,
                                                         'bot_username', t.bot_username, 'time_zone', t.time_zone));
        RETURN NEXT t;
END $$;

-- Moves @tenant to @status and audits it as @action. A removed tenant stays removed (P0002 when
-- there is no such tenant or it is removed).
CREATE FUNCTION tenant_set_status(p_tenant bigint, p_status tenant_status, p_actor text, p_action text,
                                  p_detail jsonb DEFAULT '{}')
RETURNS SETOF tenants LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
BEGIN
        UPDATE tenants SET status = p_status, updated_at = now()
        WHERE id = p_tenant AND status <> 'removed'
        RETURNING * INTO t;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no tenant %', p_tenant USING ERRCODE = 'P0002';
        END IF;
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, p_action, p_detail || jsonb_build_object('status', p_status));
        RETURN NEXT t;
END $$;

-- Extends @tenant's subscription by @days from max(now, paid_until), once per @key: a replay
-- with the same key returns the first result and changes nothing; the same key for another
-- tenant or number of days is refused (22023). P0002 when there is no live tenant.
CREATE FUNCTION tenant_extend(p_tenant bigint, p_days integer, p_key text, p_actor text)
RETURNS SETOF tenants LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
        e tenant_extensions%ROWTYPE;
BEGIN
        SELECT * INTO t FROM tenants WHERE id = p_tenant AND status <> 'removed' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no tenant %', p_tenant USING ERRCODE = 'P0002';
        END IF;
        SELECT * INTO e FROM tenant_extensions WHERE idempotency_key = p_key;
        IF FOUND THEN
                IF e.tenant_id <> p_tenant OR e.days <> p_days THEN
                        RAISE EXCEPTION 'idempotency key % was used for another request', p_key USING ERRCODE = '22023';
                END IF;
                RETURN NEXT t;
                RETURN;
        END IF;
        UPDATE tenants SET paid_until = greatest(now(), coalesce(paid_until, now())) + make_interval(days => p_days),
                           updated_at = now()
        WHERE id = p_tenant RETURNING * INTO t;
        INSERT INTO tenant_extensions (idempotency_key, tenant_id, days, paid_until) VALUES (p_key, p_tenant, p_days, t.paid_until);
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, 'extend', jsonb_build_object('days', p_days, 'paid_until', t.paid_until));
        RETURN NEXT t;
END $$;
