-- 54-FZ receipts ([YooKassa] Receipt=): the contact each owner gave the sales bot for them, an
-- e-mail or a phone number in the form YooKassa wants (receipt.c checks it first). Asked once,
-- used for every payment of the owner's, automatic renewals too.

CREATE TABLE subscription_customers (
        owner_id        bigint PRIMARY KEY CHECK (owner_id > 0),
        kind            text NOT NULL CHECK (kind IN ('email', 'phone')),
        contact         text NOT NULL CHECK (CASE kind WHEN 'phone' THEN contact ~ '^[0-9]{11,15}$'
                                                       ELSE contact ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
                                                            AND length(contact) < 255 END),
        updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Sets @owner's contact for receipts.
CREATE FUNCTION subscription_customer_set(p_owner bigint, p_kind text, p_contact text)
RETURNS void LANGUAGE sql AS $$
        INSERT INTO subscription_customers (owner_id, kind, contact) VALUES (p_owner, p_kind, p_contact)
        ON CONFLICT (owner_id) DO UPDATE SET kind = excluded.kind, contact = excluded.contact, updated_at = now()
$$;
