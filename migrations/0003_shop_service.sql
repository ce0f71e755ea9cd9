-- What tgfleet-paymentd needs on top of the ledger: an outbox for order events, and opening an
-- order (with its user) in one call that respects "one open order per user and bot".

-- order_events doubles as the outbox of order.* events: paymentd publishes each row to Redis
-- after its transaction commits and marks it published; a crash in between publishes it again
-- (consumers dedupe by the event id), never loses it.
ALTER TABLE order_events ADD COLUMN published boolean NOT NULL DEFAULT false;
UPDATE order_events SET published = true;
CREATE INDEX order_events_unpublished ON order_events (id) WHERE NOT published;

-- Opens an order for @user in @bot, or returns the one already open: a second tap never makes a
-- second order. The user row is created on first sight. Returns the order.
CREATE FUNCTION order_open(p_public_id text, p_user bigint, p_bot text, p_stars bigint, p_price_minor bigint,
                           p_currency text, p_lifetime_sec integer)
RETURNS SETOF orders LANGUAGE plpgsql AS $$
BEGIN
        INSERT INTO users (telegram_id) VALUES (p_user) ON CONFLICT (telegram_id) DO NOTHING;
        RETURN QUERY
        INSERT INTO orders (public_id, user_id, bot, stars, price_minor, currency, expires_at)
        VALUES (p_public_id, p_user, p_bot, p_stars, p_price_minor, p_currency,
                now() + make_interval(secs => p_lifetime_sec))
        ON CONFLICT (user_id, bot) WHERE status = 'pending' DO NOTHING
        RETURNING *;
        IF FOUND THEN
                RETURN;
        END IF;
        -- A new statement, a new snapshot: the open order that won the conflict is visible here.
        RETURN QUERY SELECT * FROM orders WHERE user_id = p_user AND bot = p_bot AND status = 'pending';
END $$;
