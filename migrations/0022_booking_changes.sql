-- What customers and the business do with bookings. Each function is one statement's
-- transaction, takes the tenant first (the caller's service derives it; it never comes from a
-- customer) and checks every other id against it, and answers with an outcome word rather than an
-- error for what a person may well do (a slot gone meanwhile, a deadline passed, a stale button).
-- The actor of the history is set from the function's arguments.

-- Remembers @user as a customer of @tenant (name and language as Telegram says them now).
CREATE FUNCTION booking_customer_seen(p_tenant bigint, p_user bigint, p_name text, p_lang text)
RETURNS void LANGUAGE sql AS $$
        INSERT INTO booking_customers (tenant_id, telegram_id, name, lang)
        VALUES (p_tenant, p_user, left(coalesce(p_name, ''), 128), CASE WHEN p_lang = 'en' THEN 'en' ELSE 'ru' END)
        ON CONFLICT (tenant_id, telegram_id) DO UPDATE SET name = excluded.name, lang = excluded.lang
$$;

-- Sets @user's phone number (digits with an optional '+'; 22023 otherwise).
CREATE FUNCTION booking_customer_phone(p_tenant bigint, p_user bigint, p_phone text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
        IF p_phone !~ '^\+?[0-9]{7,15}$' THEN
                RAISE EXCEPTION 'not a phone number' USING ERRCODE = '22023';
        END IF;
        INSERT INTO booking_customers (tenant_id, telegram_id, phone) VALUES (p_tenant, p_user, p_phone)
        ON CONFLICT (tenant_id, telegram_id) DO UPDATE SET phone = excluded.phone;
END $$;

-- Books @starts of @service with @staff (NULL: whoever is free, in the business's order) for
-- @customer. Outcomes:
--   booked          booking_id and status ('confirmed', or 'requested' when the owner approves)
--   taken           the start is not free (any more), or never was: nothing changed
--   limit           the customer has the most active bookings the business allows
--   phone_required  the business wants the customer's phone number first
--   no_service      no such active service
-- Racing customers: exactly one is booked, the others get "taken" (the exclusion constraint of
-- booking_busy decides; a customer's own calls are serialized on their row).
CREATE FUNCTION booking_book(p_tenant bigint, p_customer bigint, p_service bigint, p_staff bigint, p_starts timestamptz)
RETURNS TABLE (outcome text, booking_id bigint, status booking_status)
LANGUAGE plpgsql AS $$
DECLARE
        pr booking_profiles%ROWTYPE;
        cu booking_customers%ROWTYPE;
        sv booking_services%ROWTYPE;
        tz text;
        cand record;
        b bookings%ROWTYPE;
BEGIN
        PERFORM set_config('tgfleet.actor', 'customer:' || p_customer, true);
        SELECT t.time_zone INTO tz FROM tenants t WHERE t.id = p_tenant;
        SELECT * INTO pr FROM booking_profiles p WHERE p.tenant_id = p_tenant;
        SELECT * INTO sv FROM booking_services s WHERE s.tenant_id = p_tenant AND s.id = p_service AND s.active;
        IF NOT FOUND OR pr.tenant_id IS NULL THEN
                RETURN QUERY SELECT 'no_service', NULL::bigint, NULL::booking_status;
                RETURN;
        END IF;
        INSERT INTO booking_customers (tenant_id, telegram_id) VALUES (p_tenant, p_customer) ON CONFLICT DO NOTHING;
        SELECT * INTO cu FROM booking_customers c WHERE c.tenant_id = p_tenant AND c.telegram_id = p_customer FOR UPDATE;
        IF pr.phone_required AND cu.phone IS NULL THEN
                RETURN QUERY SELECT 'phone_required', NULL::bigint, NULL::booking_status;
                RETURN;
        END IF;
        IF (SELECT count(*) FROM bookings k WHERE k.tenant_id = p_tenant AND k.customer_id = p_customer
            AND booking_status_holds(k.status) AND upper(k.during) > now()) >= pr.max_active THEN
                RETURN QUERY SELECT 'limit', NULL::bigint, NULL::booking_status;
                RETURN;
        END IF;
        FOR cand IN SELECT o.staff_id FROM booking_open_slots(p_tenant, p_service, p_staff, (p_starts AT TIME ZONE tz)::date) o
                    WHERE o.starts = p_starts ORDER BY o.staff_position, o.staff_id LOOP
                BEGIN
                        INSERT INTO bookings (tenant_id, customer_id, service_id, staff_id, during, buffer_min, price_minor, status)
                        VALUES (p_tenant, p_customer, p_service, cand.staff_id,
                                tstzrange(p_starts, p_starts + make_interval(mins => sv.duration_min)), sv.buffer_min,
                                sv.price_minor, CASE WHEN pr.approval THEN 'requested' ELSE 'confirmed' END::booking_status)
                        RETURNING * INTO b;
                        RETURN QUERY SELECT 'booked', b.id, b.status;
                        RETURN;
                EXCEPTION WHEN exclusion_violation THEN
                        NULL;   -- someone was quicker; the next staff member, if any
                END;
        END LOOP;
        RETURN QUERY SELECT 'taken', NULL::bigint, NULL::booking_status;
END $$;

-- Whether @b may still be cancelled or moved by its customer: before the business's deadline.
CREATE FUNCTION booking_changeable(b bookings) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT booking_status_holds(b.status) AND now() <= lower(b.during) - make_interval(mins =>
               (SELECT p.change_deadline_min FROM booking_profiles p WHERE p.tenant_id = b.tenant_id))
$$;

-- Cancels booking @booking: by its customer @by (@as 'customer'), or by the business (@as
-- 'owner' or 'staff', @by their Telegram id, with @reason). Outcomes:
--   cancelled   done
--   not_found   no such booking of this tenant, or (customer) not theirs
--   not_active  cancelled, completed or past already
--   too_late    (customer) past the business's deadline
CREATE FUNCTION booking_cancel(p_tenant bigint, p_booking bigint, p_by bigint, p_as text, p_reason text)
RETURNS TABLE (outcome text, booking_id bigint, status booking_status)
LANGUAGE plpgsql AS $$
DECLARE
        b bookings%ROWTYPE;
BEGIN
        IF p_as NOT IN ('customer', 'owner', 'staff') THEN
                RAISE EXCEPTION 'cancelled as %?', p_as USING ERRCODE = '22023';
        END IF;
        PERFORM set_config('tgfleet.actor', p_as || ':' || p_by, true);
        SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.tenant_id = p_tenant FOR UPDATE;
        IF NOT FOUND OR (p_as = 'customer' AND b.customer_id <> p_by) THEN
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

-- Moves @customer's booking @booking to @starts with @staff (NULL: whoever is free), in one
-- transaction: the new time is taken and the old released together, and if the new one is gone
-- the booking stays as it was. Outcomes: moved, taken, not_found, not_active, too_late (as
-- booking_cancel).
CREATE FUNCTION booking_reschedule(p_tenant bigint, p_booking bigint, p_customer bigint, p_staff bigint,
                                   p_starts timestamptz)
RETURNS TABLE (outcome text, booking_id bigint, status booking_status)
LANGUAGE plpgsql AS $$
DECLARE
        b bookings%ROWTYPE;
        tz text;
        cand record;
BEGIN
        PERFORM set_config('tgfleet.actor', 'customer:' || p_customer, true);
        SELECT t.time_zone INTO tz FROM tenants t WHERE t.id = p_tenant;
        SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.tenant_id = p_tenant FOR UPDATE;
        IF NOT FOUND OR b.customer_id <> p_customer THEN
                RETURN QUERY SELECT 'not_found', p_booking, NULL::booking_status;
                RETURN;
        END IF;
        IF NOT booking_status_holds(b.status) OR upper(b.during) <= now() THEN
                RETURN QUERY SELECT 'not_active', b.id, b.status;
                RETURN;
        END IF;
        IF NOT booking_changeable(b) THEN
                RETURN QUERY SELECT 'too_late', b.id, b.status;
                RETURN;
        END IF;
        FOR cand IN SELECT o.staff_id FROM booking_open_slots(p_tenant, b.service_id, p_staff, (p_starts AT TIME ZONE tz)::date, b.id) o
                    WHERE o.starts = p_starts ORDER BY o.staff_position, o.staff_id LOOP
                BEGIN
                        UPDATE bookings k SET staff_id = cand.staff_id,
                                              during = tstzrange(p_starts, p_starts + (upper(b.during) - lower(b.during))),
                                              updated_at = now()
                        WHERE k.id = b.id RETURNING * INTO b;
                        RETURN QUERY SELECT 'moved', b.id, b.status;
                        RETURN;
                EXCEPTION WHEN exclusion_violation THEN
                        NULL;
                END;
        END LOOP;
        RETURN QUERY SELECT 'taken', b.id, b.status;
END $$;

-- @customer's upcoming bookings that hold a slot, soonest first, as the bot shows them.
CREATE FUNCTION booking_customer_bookings(p_tenant bigint, p_customer bigint)
RETURNS TABLE (id bigint, starts timestamptz, local text, service text, staff text, price_minor bigint,
               status booking_status, changeable boolean)
LANGUAGE sql STABLE AS $$
        SELECT b.id, lower(b.during), to_char(lower(b.during) AT TIME ZONE t.time_zone, 'YYYY-MM-DD HH24:MI'),
               s.name, st.name, b.price_minor, b.status, booking_changeable(b)
        FROM bookings b
        JOIN tenants t ON t.id = b.tenant_id
        JOIN booking_services s ON s.tenant_id = b.tenant_id AND s.id = b.service_id
        JOIN booking_staff st ON st.tenant_id = b.tenant_id AND st.id = b.staff_id
        WHERE b.tenant_id = p_tenant AND b.customer_id = p_customer AND booking_status_holds(b.status)
          AND upper(b.during) > now()
        ORDER BY lower(b.during), b.id
$$;
