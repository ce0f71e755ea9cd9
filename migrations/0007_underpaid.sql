-- Heleket has two underpayments: wrong_amount_waiting (paid less, the payer may still pay the
-- rest through the same invoice) and wrong_amount (final: the invoice expired, or took a single
-- payment, short). The first is the order's open 'wrong_amount'; the second gets a state of its
-- own, 'underpaid': final, nothing credited, the money held for support to return or complete.
ALTER TYPE order_status ADD VALUE 'underpaid' AFTER 'wrong_amount';

-- The state machine of 0002 with the ways into 'underpaid'.
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
        changed := (o.status::text, p_status::text) IN (
                ('pending', 'paid'), ('pending', 'paid_over'), ('pending', 'wrong_amount'),
                ('pending', 'underpaid'), ('pending', 'expired'), ('pending', 'failed'),
                -- An underpaid invoice may be completed by a second payment, or end.
                ('wrong_amount', 'paid'), ('wrong_amount', 'paid_over'), ('wrong_amount', 'underpaid'),
                ('wrong_amount', 'expired'), ('wrong_amount', 'failed'),
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
