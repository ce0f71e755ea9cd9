-- The business's side of its bot: who manages it, what they see and do there, who is told of a
-- customer's booking, and the audit of every admin action.
--
-- Roles: the owner (tenants.owner_id) and the admins the owner adds manage the whole business; a
-- staff member whose Telegram id is set (booking_staff.telegram_id) sees and manages their own
-- schedule only. Every function here takes the tenant first and the acting Telegram user second,
-- finds the user's role itself, and answers NULL (or 'not_found') for a user without one, or for a
-- booking outside it: a forged button finds nothing.

CREATE TABLE booking_admins (
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        telegram_id     bigint NOT NULL CHECK (telegram_id > 0),
        added_by        bigint NOT NULL,
        added_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, telegram_id)
);

-- Every admin action, append-only.
CREATE TABLE booking_audit (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        at              timestamptz NOT NULL DEFAULT now(),
        actor           bigint NOT NULL,                  -- the Telegram id
        role            text NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),
        action          text NOT NULL,
        booking_id      bigint REFERENCES bookings (id),
        detail          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX booking_audit_by_tenant ON booking_audit (tenant_id, at);
CREATE TRIGGER booking_audit_append_only BEFORE UPDATE OR DELETE ON booking_audit
        FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- @user's role in @tenant's business: 'owner', 'admin' or 'staff' (with the staff member's id);
-- no row for none. The owner is the owner even when also listed as an admin or staff member.
CREATE FUNCTION booking_role(p_tenant bigint, p_user bigint) RETURNS TABLE (role text, staff_id bigint)
LANGUAGE sql STABLE AS $$
        SELECT r.role, r.staff_id FROM (
                SELECT 1 AS rank, 'owner' AS role, NULL::bigint AS staff_id
                FROM tenants t WHERE t.id = p_tenant AND t.owner_id = p_user
                UNION ALL
                SELECT 2, 'admin', NULL FROM booking_admins a WHERE a.tenant_id = p_tenant AND a.telegram_id = p_user
                UNION ALL
                SELECT 3, 'staff', s.id FROM booking_staff s
                WHERE s.tenant_id = p_tenant AND s.telegram_id = p_user AND s.active) r
        ORDER BY r.rank LIMIT 1
$$;

CREATE FUNCTION booking_audit_add(p_tenant bigint, p_user bigint, p_role text, p_action text, p_booking bigint,
                                  p_detail jsonb) RETURNS void LANGUAGE sql AS $$
        INSERT INTO booking_audit (tenant_id, actor, role, action, booking_id, detail)
        VALUES (p_tenant, p_user, p_role, p_action, p_booking, coalesce(p_detail, '{}'))
$$;

-- A booking as the business sees it: its card (booking_card) with the customer's name and phone,
-- the reason of a business's cancellation, its end "HH:MM", its day, whether it has started, and
-- the customer's rating.
CREATE FUNCTION booking_admin_card(p_tenant bigint, p_booking bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT (booking_card(p_tenant, b.id)::jsonb || jsonb_build_object(
                        'customer_name', c.name, 'customer_phone', c.phone, 'reason', b.reason,
                        'ends', to_char(upper(b.during) AT TIME ZONE t.time_zone, 'HH24:MI'),
                        'day', (lower(b.during) AT TIME ZONE t.time_zone)::date,
                        'started', lower(b.during) <= now(), 'rating', b.rating))::json
        FROM bookings b
        JOIN tenants t ON t.id = b.tenant_id
        JOIN booking_customers c ON c.tenant_id = b.tenant_id AND c.telegram_id = b.customer_id
        WHERE b.tenant_id = p_tenant AND b.id = p_booking
$$;

-- Whether @user may manage booking @b: owner and admins any of the business's, staff their own.
CREATE FUNCTION booking_manages(p_tenant bigint, p_user bigint, b bookings) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT b.tenant_id = p_tenant AND EXISTS (SELECT 1 FROM booking_role(p_tenant, p_user) r
                                                  WHERE r.staff_id IS NULL OR r.staff_id = b.staff_id)
$$;

-- The schedule of @day (the business's date) as @user may see it: {"role", "day", "today",
-- "staff": [{"id", "name", "bookings": [admin card]}]}, the bookings that are not cancelled, in
-- time order; staff see only themselves. NULL for a user without a role.
CREATE FUNCTION booking_day_json(p_tenant bigint, p_user bigint, p_day date) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT json_build_object(
                'role', r.role, 'day', p_day, 'today', (now() AT TIME ZONE t.time_zone)::date,
                'staff', coalesce((
                        SELECT json_agg(json_build_object('id', st.id, 'name', st.name, 'bookings', coalesce((
                                        SELECT json_agg(booking_admin_card(p_tenant, b.id) ORDER BY lower(b.during), b.id)
                                        FROM bookings b
                                        WHERE b.tenant_id = p_tenant AND b.staff_id = st.id
                                          AND lower(b.during) >= p_day::timestamp AT TIME ZONE t.time_zone
                                          AND lower(b.during) < (p_day + 1)::timestamp AT TIME ZONE t.time_zone
                                          AND b.status NOT IN ('cancelled_customer', 'cancelled_business')), '[]'))
                                        ORDER BY st.position, st.id)
                        FROM booking_staff st
                        WHERE st.tenant_id = p_tenant AND (st.active OR st.id = r.staff_id)
                          AND (r.staff_id IS NULL OR st.id = r.staff_id)), '[]'))
        FROM booking_role(p_tenant, p_user) r, tenants t
        WHERE t.id = p_tenant
$$;

-- The requests waiting for approval that @user may decide, soonest first: [admin card], at most
-- 20; NULL for a user without a role.
CREATE FUNCTION booking_requests_json(p_tenant bigint, p_user bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce((SELECT json_agg(booking_admin_card(p_tenant, q.id) ORDER BY q.starts, q.id)
                         FROM (SELECT b.id, lower(b.during) AS starts FROM bookings b
                               WHERE b.tenant_id = p_tenant AND b.status = 'requested' AND upper(b.during) > now()
                                 AND (r.staff_id IS NULL OR b.staff_id = r.staff_id)
                               ORDER BY lower(b.during), b.id LIMIT 20) q), '[]')
        FROM booking_role(p_tenant, p_user) r
$$;

-- Booking @booking as @user manages it: its admin card, or NULL when it is not theirs to manage.
CREATE FUNCTION booking_manage_json(p_tenant bigint, p_user bigint, p_booking bigint) RETURNS json
LANGUAGE sql STABLE AS $$
        SELECT booking_admin_card(p_tenant, b.id) FROM bookings b
        WHERE b.id = p_booking AND booking_manages(p_tenant, p_user, b)
$$;

-- Cancels booking @booking: by its customer @by (@as 'customer'), or by the business (@as the
-- role of @by: 'owner', 'admin', or 'staff' for their own bookings; with @reason). Outcomes:
--   cancelled   done
--   not_found   no such booking of this tenant, or not @by's (a customer's own; a role's to manage)
--   not_active  cancelled, completed or past already
--   too_late    (customer) past the business's deadline
CREATE OR REPLACE FUNCTION booking_cancel(p_tenant bigint, p_booking bigint, p_by bigint, p_as text, p_reason text)
RETURNS TABLE (outcome text, booking_id bigint, status booking_status)
LANGUAGE plpgsql AS $$
DECLARE
        b bookings%ROWTYPE;
BEGIN
        IF p_as NOT IN ('customer', 'owner', 'admin', 'staff') THEN
                RAISE EXCEPTION 'cancelled as %?', p_as USING ERRCODE = '22023';
        END IF;
        PERFORM set_config('tgfleet.actor', p_as || ':' || p_by, true);
        SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.tenant_id = p_tenant FOR UPDATE;
        IF NOT FOUND OR (p_as = 'customer' AND b.customer_id <> p_by)
           OR (p_as <> 'customer' AND (NOT booking_manages(p_tenant, p_by, b)
                                       OR (SELECT r.role FROM booking_role(p_tenant, p_by) r) <> p_as)) THEN
                RETURN QUERY SELECT 'not_found', p_booking, NULL::booking_status;
                RETURN;
        END IF;
        IF NOT booking_status_holds(b.status) OR upper(b.during) <= now() THEN
                RETURN QUERY SELECT 'not_active', b.id, b.status;
                RETURN;
        END IF;
        IF p_as = 'customer' AND NOT booking_changeable(b) THEN
                RETURN QUERY SELECT 'too_late', b.id, b.status;
                RETURN;
        END IF;
        UPDATE bookings k SET status = CASE p_as WHEN 'customer' THEN 'cancelled_customer' ELSE 'cancelled_business' END::booking_status,
                              reason = CASE WHEN p_as = 'customer' THEN NULL ELSE left(nullif(btrim(p_reason), ''), 300) END,
                              updated_at = now()
        WHERE k.id = b.id RETURNING * INTO b;
        RETURN QUERY SELECT 'cancelled', b.id, b.status;
END $$;

-- What @user does with booking @booking, as the business: 'approve' or 'decline' a request (with
-- @reason), 'cancel' it (with @reason; the customer is told), or mark it 'complete' or 'no_show'
-- once it has started (either may be corrected to the other). Audited. Outcomes:
--   done        done
--   not_found   not a booking @user manages
--   not_active  the action does not apply to its status now
--   too_early   (complete, no_show) it has not started yet
CREATE FUNCTION booking_act(p_tenant bigint, p_user bigint, p_booking bigint, p_action text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
        r record;
        b bookings%ROWTYPE;
        outcome text := 'done';
BEGIN
        IF p_action NOT IN ('approve', 'decline', 'cancel', 'complete', 'no_show') THEN
                RAISE EXCEPTION 'no action %', p_action USING ERRCODE = '22023';
        END IF;
        SELECT * INTO r FROM booking_role(p_tenant, p_user);
        IF NOT FOUND THEN
                RETURN 'not_found';
        END IF;
        SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.tenant_id = p_tenant FOR UPDATE;
        IF NOT FOUND OR NOT booking_manages(p_tenant, p_user, b) THEN
                RETURN 'not_found';
        END IF;
        PERFORM set_config('tgfleet.actor', r.role || ':' || p_user, true);
        IF p_action = 'cancel' THEN
                SELECT c.outcome INTO outcome FROM booking_cancel(p_tenant, p_booking, p_user, r.role, p_reason) c;
                outcome := CASE outcome WHEN 'cancelled' THEN 'done' ELSE outcome END;
        ELSIF p_action IN ('approve', 'decline') THEN
                IF b.status <> 'requested' OR upper(b.during) <= now() THEN
                        outcome := 'not_active';
                ELSE
                        UPDATE bookings k SET status = CASE p_action WHEN 'approve' THEN 'confirmed' ELSE 'cancelled_business' END::booking_status,
                                              reason = CASE p_action WHEN 'decline' THEN left(nullif(btrim(p_reason), ''), 300) END,
                                              updated_at = now()
                        WHERE k.id = b.id;
                END IF;
        ELSE
                IF b.status NOT IN ('confirmed', 'completed', 'no_show') OR b.status::text = replace(p_action, 'complete', 'completed') THEN
                        outcome := 'not_active';
                ELSIF lower(b.during) > now() THEN
                        outcome := 'too_early';
                ELSE
                        UPDATE bookings k SET status = CASE p_action WHEN 'complete' THEN 'completed' ELSE 'no_show' END::booking_status,
                                              rating = CASE p_action WHEN 'complete' THEN k.rating END, updated_at = now()
                        WHERE k.id = b.id;
                END IF;
        END IF;
        IF outcome = 'done' THEN
                PERFORM booking_audit_add(p_tenant, p_user, r.role, p_action, b.id,
                                          jsonb_strip_nulls(jsonb_build_object('reason', nullif(btrim(p_reason), ''))));
        END IF;
        RETURN outcome;
END $$;

-- The customer of booking @booking, to be told of what the business did (or, for a visit marked
-- completed, asked to rate it): [{"id", "lang"}].
CREATE FUNCTION booking_customer_notice(p_tenant bigint, p_booking bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce(json_agg(json_build_object('id', c.telegram_id, 'lang', c.lang)), '[]')
        FROM bookings b JOIN booking_customers c ON c.tenant_id = b.tenant_id AND c.telegram_id = b.customer_id
        WHERE b.tenant_id = p_tenant AND b.id = p_booking
$$;

-- Who is told at once of a customer's booking, cancellation or move: the owner, the admins and
-- the booking's staff member (when they have a Telegram id), each once, not the customer
-- themselves: [{"id", "lang"}], the language the person last used with the bot (else 'ru').
CREATE FUNCTION booking_team_notice(p_tenant bigint, p_booking bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce(json_agg(json_build_object('id', m.id, 'lang', coalesce(c.lang, 'ru')) ORDER BY m.rank, m.id), '[]')
        FROM (SELECT DISTINCT ON (x.id) x.id, x.rank
              FROM (SELECT t.owner_id AS id, 1 AS rank FROM tenants t WHERE t.id = p_tenant
                    UNION ALL
                    SELECT a.telegram_id, 2 FROM booking_admins a WHERE a.tenant_id = p_tenant
                    UNION ALL
                    SELECT st.telegram_id, 3 FROM bookings b JOIN booking_staff st ON st.id = b.staff_id
                    WHERE b.tenant_id = p_tenant AND b.id = p_booking AND st.telegram_id IS NOT NULL) x
              ORDER BY x.id, x.rank) m
        LEFT JOIN booking_customers c ON c.tenant_id = p_tenant AND c.telegram_id = m.id
        WHERE m.id IS DISTINCT FROM (SELECT b.customer_id FROM bookings b WHERE b.tenant_id = p_tenant AND b.id = p_booking)
$$;

-- booking_act() as the bot shows it: {"outcome", "booking": admin card, "notify": the customer,
-- when done}; the booking's card only for a user who manages it.
CREATE FUNCTION booking_act_json(p_tenant bigint, p_user bigint, p_booking bigint, p_action text, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
        outcome text;
BEGIN
        outcome := booking_act(p_tenant, p_user, p_booking, p_action, p_reason);
        RETURN json_build_object('outcome', outcome,
                                 'booking', CASE WHEN outcome <> 'not_found' THEN booking_admin_card(p_tenant, p_booking) END,
                                 'notify', CASE WHEN outcome = 'done' THEN booking_customer_notice(p_tenant, p_booking)
                                           ELSE '[]' END);
END $$;

-- A customer's booking, cancellation or move, with the team to tell when it happened.
CREATE OR REPLACE FUNCTION booking_outcome_json(p_tenant bigint, p_outcome text, p_booking bigint) RETURNS json
LANGUAGE sql STABLE AS $$
        SELECT json_build_object('outcome', p_outcome, 'booking', booking_card(p_tenant, p_booking),
                                 'notify', CASE WHEN p_outcome IN ('booked', 'cancelled', 'moved')
                                           THEN booking_team_notice(p_tenant, p_booking) ELSE '[]' END)
$$;

-- The team as the owner or an admin sees it: {"role", "owner", "admins": [{"id", "name"}],
-- "staff": [{"id", "name", "telegram_id"}]} (names as they last used the bot); NULL for others.
CREATE FUNCTION booking_team_json(p_tenant bigint, p_user bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT json_build_object(
                'role', r.role, 'owner', t.owner_id,
                'admins', coalesce((SELECT json_agg(json_build_object('id', a.telegram_id, 'name', coalesce(c.name, ''))
                                                    ORDER BY a.added_at, a.telegram_id)
                                    FROM booking_admins a
                                    LEFT JOIN booking_customers c ON c.tenant_id = a.tenant_id AND c.telegram_id = a.telegram_id
                                    WHERE a.tenant_id = p_tenant), '[]'),
                'staff', coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'telegram_id', s.telegram_id)
                                                   ORDER BY s.position, s.id)
                                   FROM booking_staff s WHERE s.tenant_id = p_tenant AND s.active), '[]'))
        FROM booking_role(p_tenant, p_user) r, tenants t
        WHERE t.id = p_tenant AND r.role IN ('owner', 'admin')
$$;

-- The owner adds (@add) or removes Telegram user @member as an admin; at most 5. Audited.
-- Outcomes: added, removed, exists (already one), none (not one), is_owner, limit, not_allowed
-- (@user is not the owner).
CREATE FUNCTION booking_admin_set(p_tenant bigint, p_user bigint, p_member bigint, p_add boolean) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM 1 FROM tenants t WHERE t.id = p_tenant AND t.owner_id = p_user FOR UPDATE;
        IF NOT FOUND THEN
                RETURN 'not_allowed';
        END IF;
        IF p_member <= 0 THEN
                RAISE EXCEPTION 'not a Telegram id: %', p_member USING ERRCODE = '22023';
        END IF;
        IF p_member = p_user THEN
                RETURN 'is_owner';
        END IF;
        IF NOT p_add THEN
                DELETE FROM booking_admins a WHERE a.tenant_id = p_tenant AND a.telegram_id = p_member;
                IF NOT FOUND THEN
                        RETURN 'none';
                END IF;
                PERFORM booking_audit_add(p_tenant, p_user, 'owner', 'admin_remove', NULL, jsonb_build_object('member', p_member));
                RETURN 'removed';
        END IF;
        IF (SELECT count(*) FROM booking_admins a WHERE a.tenant_id = p_tenant) >= 5 THEN
                RETURN CASE WHEN EXISTS (SELECT 1 FROM booking_admins a WHERE a.tenant_id = p_tenant
                                         AND a.telegram_id = p_member) THEN 'exists' ELSE 'limit' END;
        END IF;
        INSERT INTO booking_admins (tenant_id, telegram_id, added_by) VALUES (p_tenant, p_member, p_user)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
                RETURN 'exists';
        END IF;
        PERFORM booking_audit_add(p_tenant, p_user, 'owner', 'admin_add', NULL, jsonb_build_object('member', p_member));
        RETURN 'added';
END $$;

-- The owner or an admin links staff member @staff to Telegram user @telegram (0: unlinks them),
-- who then sees and manages their own schedule. Audited. Outcomes: linked, unlinked, taken
-- (another staff member has that account), not_found (no such active staff member),
-- not_allowed.
CREATE FUNCTION booking_staff_link(p_tenant bigint, p_user bigint, p_staff bigint, p_telegram bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
        r record;
BEGIN
        SELECT * INTO r FROM booking_role(p_tenant, p_user);
        IF NOT FOUND OR r.role NOT IN ('owner', 'admin') THEN
                RETURN 'not_allowed';
        END IF;
        IF p_telegram < 0 THEN
                RAISE EXCEPTION 'not a Telegram id: %', p_telegram USING ERRCODE = '22023';
        END IF;
        BEGIN
                UPDATE booking_staff s SET telegram_id = nullif(p_telegram, 0)
                WHERE s.tenant_id = p_tenant AND s.id = p_staff AND s.active;
                IF NOT FOUND THEN
                        RETURN 'not_found';
                END IF;
        EXCEPTION WHEN unique_violation THEN
                RETURN 'taken';
        END;
        PERFORM booking_audit_add(p_tenant, p_user, r.role, CASE WHEN p_telegram = 0 THEN 'staff_unlink' ELSE 'staff_link' END,
                                  NULL, jsonb_build_object('staff', p_staff, 'telegram_id', nullif(p_telegram, 0)));
        RETURN CASE WHEN p_telegram = 0 THEN 'unlinked' ELSE 'linked' END;
END $$;

-- @user as a customer of @tenant, remembered with their name and language: {"phone", "lang",
-- "role"} (the role: null for a customer).
CREATE OR REPLACE FUNCTION booking_customer_json(p_tenant bigint, p_user bigint, p_name text, p_lang text)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
        PERFORM booking_customer_seen(p_tenant, p_user, p_name, p_lang);
        RETURN (SELECT json_build_object('phone', c.phone, 'lang', c.lang,
                                         'role', (SELECT r.role FROM booking_role(p_tenant, p_user) r))
                FROM booking_customers c WHERE c.tenant_id = p_tenant AND c.telegram_id = p_user);
END $$;

-- @customer rates their completed visit @booking, 1 to 5 stars (22023 otherwise), once: the
-- rating then stays. Outcomes: rated, already, not_completed, not_found (not theirs).
CREATE FUNCTION booking_rate(p_tenant bigint, p_customer bigint, p_booking bigint, p_stars integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
        b bookings%ROWTYPE;
BEGIN
        IF p_stars IS NULL OR p_stars NOT BETWEEN 1 AND 5 THEN
                RAISE EXCEPTION 'a rating is 1 to 5 stars' USING ERRCODE = '22023';
        END IF;
        SELECT * INTO b FROM bookings k
        WHERE k.id = p_booking AND k.tenant_id = p_tenant AND k.customer_id = p_customer FOR UPDATE;
        IF NOT FOUND THEN
                RETURN 'not_found';
        END IF;
        IF b.status <> 'completed' THEN
                RETURN 'not_completed';
        END IF;
        IF b.rating IS NOT NULL THEN
                RETURN 'already';
        END IF;
        UPDATE bookings k SET rating = p_stars, updated_at = now() WHERE k.id = b.id;
        RETURN 'rated';
END $$;

-- The business's figures for the visits from @from to @to (dates of its zone, at most 366 days;
-- 22023 otherwise), for the owner and admins only (NULL for others): {"from", "to", "bookings",
-- "upcoming" (requested or confirmed), "completed", "no_show", "cancelled_customer",
-- "cancelled_business", "revenue_minor" (of completed visits, at their booked price), "rating"
-- (the average, or null), "ratings", "by_service" and "by_staff": [{"name", "visits",
-- "revenue_minor"}] of completed visits, most revenue first}.
CREATE FUNCTION booking_stats_json(p_tenant bigint, p_user bigint, p_from date, p_to date) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
        tz text;
        result json;
BEGIN
        IF p_to < p_from OR p_to - p_from > 365 THEN
                RAISE EXCEPTION 'figures span 1 to 366 days' USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM booking_role(p_tenant, p_user) r WHERE r.role IN ('owner', 'admin')) THEN
                RETURN NULL;
        END IF;
        SELECT t.time_zone INTO tz FROM tenants t WHERE t.id = p_tenant;
        WITH b AS (
                SELECT k.* FROM bookings k
                WHERE k.tenant_id = p_tenant AND lower(k.during) >= p_from::timestamp AT TIME ZONE tz
                  AND lower(k.during) < (p_to + 1)::timestamp AT TIME ZONE tz
        )
        SELECT json_build_object(
                'from', p_from, 'to', p_to, 'bookings', (SELECT count(*) FROM b),
                'upcoming', (SELECT count(*) FROM b WHERE booking_status_holds(b.status)),
                'completed', (SELECT count(*) FROM b WHERE b.status = 'completed'),
                'no_show', (SELECT count(*) FROM b WHERE b.status = 'no_show'),
                'cancelled_customer', (SELECT count(*) FROM b WHERE b.status = 'cancelled_customer'),
                'cancelled_business', (SELECT count(*) FROM b WHERE b.status = 'cancelled_business'),
                'revenue_minor', (SELECT coalesce(sum(b.price_minor), 0) FROM b WHERE b.status = 'completed'),
                'rating', (SELECT round(avg(b.rating), 1) FROM b WHERE b.rating IS NOT NULL),
                'ratings', (SELECT count(b.rating) FROM b),
                'by_service', coalesce((SELECT json_agg(json_build_object('name', x.name, 'visits', x.visits,
                                                                          'revenue_minor', x.revenue)
                                                        ORDER BY x.revenue DESC, x.name)
                                        FROM (SELECT s.name, count(*) AS visits, sum(b.price_minor) AS revenue
                                              FROM b JOIN booking_services s ON s.id = b.service_id
                                              WHERE b.status = 'completed' GROUP BY s.id, s.name) x), '[]'),
                'by_staff', coalesce((SELECT json_agg(json_build_object('name', x.name, 'visits', x.visits,
                                                                        'revenue_minor', x.revenue)
                                                      ORDER BY x.revenue DESC, x.name)
                                      FROM (SELECT st.name, count(*) AS visits, sum(b.price_minor) AS revenue
                                            FROM b JOIN booking_staff st ON st.id = b.staff_id
                                            WHERE b.status = 'completed' GROUP BY st.id, st.name) x), '[]'))
        INTO result;
        RETURN result;
END $$;
