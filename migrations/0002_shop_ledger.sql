-- The Stars shop: orders and a double-entry ledger. Money rules live here, as constraints, so that
-- no interleaving of duplicate webhooks, "Check payment" clicks, reconciliation polls and crashes
-- can credit twice, lose a credit, or drive a balance below zero.
--
-- Amounts: integer minor units (cents) for prices, whole Stars for the ledger. Never floats.

CREATE TYPE order_status AS ENUM (
        'pending',       -- invoice created, not paid
        'paid',          -- paid exactly (Heleket paid)
        'paid_over',     -- paid more than asked (Heleket paid_over): credited like paid
        'wrong_amount',  -- paid less (Heleket wrong_amount): not credited
        'expired',       -- lifetime over unpaid (Heleket cancel)
        'failed',        -- Heleket fail / system_fail
        'refunded'       -- a credited order taken back (Heleket refund_paid)
);

CREATE TABLE orders (
        id              bigserial PRIMARY KEY,
        -- The order_id sent to the provider: unique, Heleket's alpha_dash, and its idempotency key.
        public_id       text NOT NULL UNIQUE CHECK (public_id ~ '^[A-Za-z0-9_-]{1,128}$'),
        user_id         bigint NOT NULL REFERENCES users (telegram_id),
        bot             text NOT NULL CHECK (bot ~ '^[A-Za-z0-9_-]{1,64}$'),
        stars           bigint NOT NULL CHECK (stars > 0 AND stars <= 1000000),
        price_minor     bigint NOT NULL CHECK (price_minor > 0),
        currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3,5}$'),
        provider        text NOT NULL DEFAULT 'heleket' CHECK (provider IN ('heleket')),
        invoice_id      text UNIQUE,            -- the provider's invoice (Heleket uuid)
        pay_url         text,
        status          order_status NOT NULL DEFAULT 'pending',
        paid_minor      bigint CHECK (paid_minor IS NULL OR paid_minor >= 0),
        expires_at      timestamptz NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One open order per user and bot: a second tap returns the first invoice, it never makes another.
CREATE UNIQUE INDEX orders_one_open_per_user ON orders (user_id, bot) WHERE status = 'pending';
CREATE INDEX orders_pending_by_age ON orders (created_at) WHERE status IN ('pending', 'wrong_amount');
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC);

-- Every change of an order, for its story (journalctl ORDER=… tells the same from the services).
CREATE TABLE order_events (
        id              bigserial PRIMARY KEY,
        order_id        bigint NOT NULL REFERENCES orders (id),
        from_status     order_status NOT NULL,
        to_status       order_status NOT NULL,
        source          text NOT NULL,          -- 'webhook', 'check', 'reconcile', …
        at              timestamptz NOT NULL DEFAULT now()
);

-- Ledger accounts. A user's Stars balance is the balance of their 'user' account. The 'issued'
-- account is where sold Stars come from: it goes negative by exactly what users hold.
CREATE TABLE ledger_accounts (
        id              bigserial PRIMARY KEY,
        kind            text NOT NULL CHECK (kind IN ('user', 'issued')),
        user_id         bigint REFERENCES users (telegram_id),
        balance         bigint NOT NULL DEFAULT 0,
        CHECK ((kind = 'user') = (user_id IS NOT NULL)),
        -- Balances never go negative, except the issuing account's.
        CHECK (kind = 'issued' OR balance >= 0)
);
CREATE UNIQUE INDEX ledger_accounts_one_per_user ON ledger_accounts (user_id) WHERE kind = 'user';
CREATE UNIQUE INDEX ledger_accounts_one_issued ON ledger_accounts (kind) WHERE kind = 'issued';
INSERT INTO ledger_accounts (kind) VALUES ('issued');

CREATE TABLE ledger_transactions (
        id              bigserial PRIMARY KEY,
        -- What makes a movement happen at most once: 'order:<id>:credit', 'order:<id>:refund'.
        idempotency_key text NOT NULL UNIQUE,
        order_id        bigint REFERENCES orders (id),
        description     text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
        id              bigserial PRIMARY KEY,
        transaction_id  bigint NOT NULL REFERENCES ledger_transactions (id),
        account_id      bigint NOT NULL REFERENCES ledger_accounts (id),
        amount          bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id);

-- Balances follow the entries in the same statement; the CHECK above then refuses any entry that
-- would overdraw an account.
CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
        RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();

-- Entries are never changed or removed: corrections are new transactions.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        RAISE EXCEPTION 'ledger entries are append-only';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Double entry: at commit, the entries of every transaction touched sum to zero.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
        total bigint;
BEGIN
        SELECT coalesce(sum(amount), 0) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 THEN
                RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total;
        END IF;
        RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- Moves @stars from the issuing account to @user (negative @stars: back), once per @key.
-- Returns true when it moved now, false when @key had moved already.
CREATE FUNCTION ledger_move_stars(p_key text, p_order bigint, p_user bigint, p_stars bigint, p_description text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
        tx bigint;
        user_account bigint;
        issued bigint;
BEGIN
        INSERT INTO ledger_transactions (idempotency_key, order_id, description)
        VALUES (p_key, p_order, p_description)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id INTO tx;
        IF tx IS NULL THEN
                RETURN false;
        END IF;
        INSERT INTO ledger_accounts (kind, user_id) VALUES ('user', p_user)
        ON CONFLICT (user_id) WHERE kind = 'user' DO NOTHING;
        SELECT id INTO user_account FROM ledger_accounts WHERE kind = 'user' AND user_id = p_user;
        SELECT id INTO issued FROM ledger_accounts WHERE kind = 'issued';
        INSERT INTO ledger_entries (transaction_id, account_id, amount)
        VALUES (tx, user_account, p_stars), (tx, issued, -p_stars);
        RETURN true;
END $$;

-- The order state machine. Applies @status (as confirmed with the provider) to @order and, on the
-- way into paid/paid_over, credits its Stars exactly once; on the way into refunded, takes them
-- back once. Transitions not in the table leave the order as it is. Callers may race freely: the
-- order row is locked, and the ledger's idempotency keys make every movement happen once.
-- Returns the order's status afterwards and whether this call changed it.
CREATE FUNCTION order_apply_status(p_order bigint, p_status order_status, p_paid_minor bigint, p_source text,
                                   OUT status order_status, OUT changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
        o orders%ROWTYPE;
BEGIN
        SELECT * INTO o FROM orders WHERE id = p_order FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no order %', p_order;
        END IF;
        changed := (o.status, p_status) IN (
                ('pending', 'paid'), ('pending', 'paid_over'), ('pending', 'wrong_amount'),
                ('pending', 'expired'), ('pending', 'failed'),
                -- An underpaid invoice may be completed by a second payment, or end.
                ('wrong_amount', 'paid'), ('wrong_amount', 'paid_over'), ('wrong_amount', 'expired'),
                ('wrong_amount', 'failed'),
                ('paid', 'refunded'), ('paid_over', 'refunded'));
        IF NOT changed THEN
                status := o.status;
                RETURN;
        END IF;
        UPDATE orders SET status = p_status, paid_minor = coalesce(p_paid_minor, paid_minor), updated_at = now()
        WHERE id = p_order;
        INSERT INTO order_events (order_id, from_status, to_status, source) VALUES (p_order, o.status, p_status, p_source);
        IF p_status IN ('paid', 'paid_over') THEN
                PERFORM ledger_move_stars('order:' || p_order || ':credit', p_order, o.user_id, o.stars,
                                          o.stars || ' Stars bought, order ' || o.public_id);
        ELSIF p_status = 'refunded' THEN
                PERFORM ledger_move_stars('order:' || p_order || ':refund', p_order, o.user_id, -o.stars,
                                          'refund of order ' || o.public_id);
        END IF;
        status := p_status;
END $$;
