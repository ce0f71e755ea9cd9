-- The shop's orders for the operator: GET /api/orders, GET /api/orders/{id}, tgfleetctl orders.

-- A time as the API writes every time: UTC, to the second, ISO 8601.
CREATE FUNCTION utc_text(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- An order as the API shows it. Amounts are integer minor units of its currency.
CREATE FUNCTION order_json(o orders) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('id', o.public_id, 'bot', o.bot, 'user_id', o.user_id, 'stars', o.stars,
                                  'price_minor', o.price_minor, 'paid_minor', o.paid_minor, 'currency', o.currency,
                                  'status', o.status, 'provider', o.provider, 'invoice_id', o.invoice_id,
                                  'created_at', utc_text(o.created_at), 'updated_at', utc_text(o.updated_at),
                                  'expires_at', utc_text(o.expires_at))
$$;

-- The operator's list: newest first, by status and by user.
CREATE INDEX orders_by_time ON orders (created_at DESC, id DESC);
