-- Cancelling ends a pending order here; a part-paid one (wrong_amount) holds money and cannot be
-- cancelled. The invoice stays payable at Heleket until its lifetime ends, and money that
-- arrives is never ignored: a payment for a cancelled order is applied as for an expired one.
INSERT INTO order_transitions (from_status, to_status) VALUES
        ('pending', 'cancelled'),
        ('cancelled', 'paid'), ('cancelled', 'paid_over'), ('cancelled', 'wrong_amount'), ('cancelled', 'underpaid');

-- Cancels @user's order @public_id. Returns the order as it is afterwards (cancelled, or what it
-- already was when it could not be), and nothing when @user has no such order.
CREATE FUNCTION order_cancel(p_public_id text, p_user bigint) RETURNS SETOF orders
LANGUAGE plpgsql AS $$
DECLARE
        o_id bigint;
BEGIN
        SELECT id INTO o_id FROM orders WHERE public_id = p_public_id AND user_id = p_user;
        IF NOT FOUND THEN
                RETURN;
        END IF;
        PERFORM order_apply_status(o_id, 'cancelled', NULL, 'user');
        RETURN QUERY SELECT * FROM orders WHERE id = o_id;
END $$;

-- Reconciliation keeps asking Heleket about a cancelled order until its invoice expires.
CREATE INDEX orders_cancelled_payable ON orders (expires_at) WHERE status = 'cancelled';
