-- What operators see of subscriptions: GET /api/payments, the payments and plan of
-- GET /api/clients/{id}, the revenue and churn of GET /api/stats, tgfleetctl payments.

-- An amount of minor units as the decimal string the API writes ("299.00").
CREATE FUNCTION minor_text(m bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT to_char(m / 100.0, 'FM999999999999990.00')
$$;

-- A subscription payment as the API shows it.
CREATE FUNCTION subscription_payment_json(s subscription_payments) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('id', s.id, 'client_id', s.tenant_id, 'owner_id', s.owner_id, 'days', s.days,
                                  'amount', minor_text(s.amount_minor), 'amount_minor', s.amount_minor,
                                  'currency', s.currency, 'status', s.status, 'provider_id', s.provider_id,
                                  'auto_renew', s.save_method, 'cancel_reason', s.cancel_reason, 'test', s.test,
                                  'created_at', utc_text(s.created_at), 'paid_at', utc_text(s.paid_at))
$$;

-- A client as in 0006, with its subscription: the plan of its latest payment received, whether a
-- saved method renews it, why it is suspended when the lifecycle did it.
CREATE OR REPLACE FUNCTION tenant_json(t tenants) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('id', t.id, 'name', t.name, 'owner_id', t.owner_id, 'bot_id', t.bot_id,
                                  'bot_username', t.bot_username, 'status', t.status,
                                  'paid_until', to_char(t.paid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'time_zone', t.time_zone,
                                  'created_at', to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'updated_at', to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'plan_days', (SELECT s.days FROM subscription_payments s WHERE s.tenant_id = t.id
                                                AND s.status = 'succeeded' ORDER BY s.paid_at DESC LIMIT 1),
                                  'auto_renew', EXISTS (SELECT 1 FROM subscription_payments s WHERE s.tenant_id = t.id
                                                        AND s.method_id IS NOT NULL),
                                  'suspended_for', t.suspended_for)
$$;

CREATE INDEX subscription_payments_by_time ON subscription_payments (created_at DESC, id DESC);
CREATE INDEX subscription_payments_paid ON subscription_payments (paid_at) WHERE status = 'succeeded';
