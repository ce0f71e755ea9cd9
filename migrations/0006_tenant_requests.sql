-- What the operator may ask of a tenant in each status, decided under the tenant's row lock so
-- that two requests cannot both pass a check the other invalidates. The deploy worker records
-- the outcome (active, suspended, removed, failed) when its task ends.

-- Records that @action was asked for @tenant by @actor and moves a deploy, resume or redeploy to
-- 'deploying'. Errors: P0002 when there is no live tenant; 55000 when the action makes no sense
-- in the tenant's status (the message says why); 22023 for an unknown action.
CREATE FUNCTION tenant_request(p_tenant bigint, p_action text, p_actor text)
RETURNS SETOF tenants LANGUAGE plpgsql AS $$
DECLARE
        t tenants%ROWTYPE;
        allowed tenant_status[];
BEGIN
        allowed := CASE p_action
                WHEN 'deploy'   THEN ARRAY['pending']::tenant_status[]
                WHEN 'suspend'  THEN ARRAY['pending', 'deploying', 'active', 'failed']::tenant_status[]
                WHEN 'resume'   THEN ARRAY['suspended', 'failed']::tenant_status[]
                WHEN 'redeploy' THEN ARRAY['deploying', 'active', 'failed']::tenant_status[]
                WHEN 'remove'   THEN ARRAY['pending', 'deploying', 'active', 'suspended', 'failed']::tenant_status[]
        END;
        IF allowed IS NULL THEN
                RAISE EXCEPTION 'unknown action %', p_action USING ERRCODE = '22023';
        END IF;
        SELECT * INTO t FROM tenants WHERE id = p_tenant AND status <> 'removed' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no tenant %', p_tenant USING ERRCODE = 'P0002';
        END IF;
        IF NOT t.status = ANY (allowed) THEN
                RAISE EXCEPTION 'cannot % a client that is %', p_action, t.status USING ERRCODE = '55000';
        END IF;
        IF p_action IN ('deploy', 'resume', 'redeploy') THEN
                UPDATE tenants SET status = 'deploying', updated_at = now() WHERE id = p_tenant RETURNING * INTO t;
        END IF;
        INSERT INTO tenant_audit (tenant_id, actor, action, detail)
        VALUES (t.id, p_actor, 'request', jsonb_build_object('action', p_action, 'status', t.status));
        RETURN NEXT t;
END $$;

-- A tenant as the API shows it.
CREATE FUNCTION tenant_json(t tenants) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('id', t.id, 'name', t.name, 'owner_id', t.owner_id, 'bot_id', t.bot_id,
                                  'bot_username', t.bot_username, 'status', t.status,
                                  'paid_until', to_char(t.paid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'time_zone', t.time_zone,
                                  'created_at', to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'updated_at', to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
$$;
CREATE INDEX tenant_audit_by_time ON tenant_audit (at);
