-- Money that arrives is never ignored: a payment Heleket confirms for an order that had already
-- ended here (expired at its lifetime, or failed) is applied like any other. Paid in full it is
-- credited; paid short it becomes wrong_amount (the rest may still come) or underpaid. Before
-- this, such a payment matched no transition and was dropped without a word.
--
-- The state machine's transitions become a table, so that the next change to them is a row, not
-- another copy of order_apply_status().
CREATE TABLE order_transitions (
        from_status     order_status NOT NULL,
        to_status       order_status NOT NULL,
        PRIMARY KEY (from_status, to_status)
);
INSERT INTO order_transitions (from_status, to_status) VALUES
        ('pending', 'paid'), ('pending', 'paid_over'), ('pending', 'wrong_amount'),
        ('pending', 'underpaid'), ('pending', 'expired'), ('pending', 'failed'),
        -- An underpaid invoice may be completed by a second payment, or end.
        ('wrong_amount', 'paid'), ('wrong_amount', 'paid_over'), ('wrong_amount', 'underpaid'),
        ('wrong_amount', 'expired'), ('wrong_amount', 'failed'),
        -- A payment that arrives after the order ended here.
        ('expired', 'paid'), ('expired', 'paid_over'), ('expired', 'wrong_amount'), ('expired', 'underpaid'),
        ('failed', 'paid'), ('failed', 'paid_over'), ('failed', 'wrong_amount'), ('failed', 'underpaid'),
        ('paid', 'refunded'), ('paid_over', 'refunded');

-- The state machine of 0002, its transitions read from order_transitions.
CREATE OR REPLACE FUNCTION order_apply_status(p_order bigint, p_status order_status, p_paid_minor bigint,
                                              p_source text, OUT status order_status, OUT changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
        o orders%ROWTYPE;
BEGIN
        SELECT * INTO o FROM orders WHERE id = p_order FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no order %', p_order;
        END IF;
        changed := EXISTS (SELECT 1 FROM order_transitions t WHERE t.from_status = o.status AND t.to_status = p_status);
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
