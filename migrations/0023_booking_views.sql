-- What tgfleet-bookingd answers a tenant bot with: each a JSON text, computed by one statement,
-- for the tenant bookingd derived from the calling process (never one the caller names).

-- The business as its customers see it: name, zone, the about text and contacts, the rules a
-- customer meets, the active services and staff in the business's order (each staff member with
-- the services they do), and the working hours by ISO weekday as the union of the staff's.
CREATE FUNCTION booking_business(p_tenant bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT json_build_object(
                'name', t.name, 'owner', t.owner_id, 'time_zone', t.time_zone,
                'today', (now() AT TIME ZONE t.time_zone)::date,
                'about', p.about, 'address', p.address, 'phone', p.phone,
                'latitude', p.latitude, 'longitude', p.longitude, 'currency', p.currency,
                'approval', p.approval, 'phone_required', p.phone_required, 'horizon_days', p.horizon_days,
                'change_deadline_min', p.change_deadline_min, 'max_active', p.max_active,
                'services', coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name,
                                                                        'description', s.description,
                                                                        'duration_min', s.duration_min,
                                                                        'price_minor', s.price_minor)
                                                      ORDER BY s.position, s.id)
                                      FROM booking_services s WHERE s.tenant_id = t.id AND s.active), '[]'),
                'staff', coalesce((SELECT json_agg(json_build_object('id', st.id, 'name', st.name,
                                                                     'services', (SELECT coalesce(json_agg(ss.service_id ORDER BY ss.service_id), '[]')
                                                                                  FROM booking_staff_services ss
                                                                                  JOIN booking_services s ON s.id = ss.service_id AND s.active
                                                                                  WHERE ss.staff_id = st.id))
                                                   ORDER BY st.position, st.id)
                                   FROM booking_staff st WHERE st.tenant_id = t.id AND st.active), '[]'),
                'hours', coalesce((SELECT json_agg(json_build_object('weekday', w.weekday, 'from', w.f, 'to', w.u)
                                                   ORDER BY w.weekday)
                                   FROM (SELECT h.weekday, to_char(min(lower(h.hours)), 'HH24:MI') AS f,
                                                to_char(max(upper(h.hours)), 'HH24:MI') AS u
                                         FROM booking_hours h JOIN booking_staff st ON st.id = h.staff_id AND st.active
                                         WHERE h.tenant_id = t.id GROUP BY h.weekday) w), '[]'))
        FROM tenants t JOIN booking_profiles p ON p.tenant_id = t.id
        WHERE t.id = p_tenant
$$;

-- The calendar from @from to @to (at most 62 days; 22023 otherwise): [{"day", "free"}].
CREATE FUNCTION booking_days_json(p_tenant bigint, p_service bigint, p_staff bigint, p_from date, p_to date)
RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
        IF p_to < p_from OR p_to - p_from > 62 THEN
                RAISE EXCEPTION 'a calendar spans 1 to 63 days' USING ERRCODE = '22023';
        END IF;
        RETURN (SELECT coalesce(json_agg(json_build_object('day', d.day, 'free', d.free) ORDER BY d.day), '[]')
                FROM booking_free_days(p_tenant, p_service, p_staff, p_from, p_to) d);
END $$;

-- The free starts of @day: [{"starts" (Unix time), "staff", "local" ("HH:MM")}].
CREATE FUNCTION booking_slots_json(p_tenant bigint, p_service bigint, p_staff bigint, p_day date)
RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce(json_agg(json_build_object('starts', extract(epoch FROM f.starts)::bigint, 'staff', f.staff_id,
                                                   'local', f.local) ORDER BY f.starts), '[]')
        FROM booking_free_slots(p_tenant, p_service, p_staff, p_day) f
$$;

-- The @n free starts soonest from @after: [{"starts", "staff", "local" ("YYYY-MM-DD HH:MM")}].
CREATE FUNCTION booking_nearest_json(p_tenant bigint, p_service bigint, p_staff bigint, p_after timestamptz,
                                     p_n integer)
RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce(json_agg(json_build_object('starts', extract(epoch FROM f.starts)::bigint, 'staff', f.staff_id,
                                                   'local', f.local) ORDER BY f.starts), '[]')
        FROM booking_nearest_slots(p_tenant, p_service, p_staff, p_after, least(greatest(p_n, 1), 10)) f
$$;

-- Booking @booking of @tenant as the bot shows it: {"id", "starts" (Unix time), "local"
-- ("YYYY-MM-DD HH:MM" in the business's zone), "service", "service_id", "staff", "staff_id",
-- "customer", "price_minor", "status", "changeable"}; NULL when there is no such booking.
CREATE FUNCTION booking_card(p_tenant bigint, p_booking bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT json_build_object('id', b.id, 'starts', extract(epoch FROM lower(b.during))::bigint,
                                 'local', to_char(lower(b.during) AT TIME ZONE t.time_zone, 'YYYY-MM-DD HH24:MI'),
                                 'service', s.name, 'service_id', s.id, 'staff', st.name, 'staff_id', st.id,
                                 'customer', b.customer_id, 'price_minor', b.price_minor, 'status', b.status,
                                 'changeable', booking_changeable(b))
        FROM bookings b
        JOIN tenants t ON t.id = b.tenant_id
        JOIN booking_services s ON s.tenant_id = b.tenant_id AND s.id = b.service_id
        JOIN booking_staff st ON st.tenant_id = b.tenant_id AND st.id = b.staff_id
        WHERE b.tenant_id = p_tenant AND b.id = p_booking
$$;

-- @customer's upcoming bookings that hold a slot, soonest first: [card].
CREATE FUNCTION booking_bookings_json(p_tenant bigint, p_customer bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT coalesce(json_agg(booking_card(p_tenant, b.id) ORDER BY b.starts, b.id), '[]')
        FROM booking_customer_bookings(p_tenant, p_customer) b
$$;

-- An outcome of booking_book(), booking_cancel() or booking_reschedule() with the booking's card
-- as it is afterwards: {"outcome", "booking": card or null}. (Functions, so that the card is read
-- after the change, by a statement of its own.)
CREATE FUNCTION booking_outcome_json(p_tenant bigint, p_outcome text, p_booking bigint) RETURNS json
LANGUAGE sql STABLE AS $$
        SELECT json_build_object('outcome', p_outcome, 'booking', booking_card(p_tenant, p_booking))
$$;

CREATE FUNCTION booking_book_json(p_tenant bigint, p_customer bigint, p_service bigint, p_staff bigint,
                                  p_starts timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
        r record;
BEGIN
        SELECT * INTO r FROM booking_book(p_tenant, p_customer, p_service, p_staff, p_starts);
        RETURN booking_outcome_json(p_tenant, r.outcome, r.booking_id);
END $$;

-- As booking_cancel(); a booking that is not the customer's (as customer) shows no card.
CREATE FUNCTION booking_cancel_json(p_tenant bigint, p_booking bigint, p_by bigint, p_as text, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
        r record;
BEGIN
        SELECT * INTO r FROM booking_cancel(p_tenant, p_booking, p_by, p_as, p_reason);
        RETURN booking_outcome_json(p_tenant, r.outcome, CASE WHEN r.outcome <> 'not_found' THEN r.booking_id END);
END $$;

CREATE FUNCTION booking_reschedule_json(p_tenant bigint, p_booking bigint, p_customer bigint, p_staff bigint,
                                        p_starts timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
        r record;
BEGIN
        SELECT * INTO r FROM booking_reschedule(p_tenant, p_booking, p_customer, p_staff, p_starts);
        RETURN booking_outcome_json(p_tenant, r.outcome, CASE WHEN r.outcome <> 'not_found' THEN r.booking_id END);
END $$;

-- Booking @booking of @customer: its card, or NULL when it is not theirs.
CREATE FUNCTION booking_customer_card(p_tenant bigint, p_customer bigint, p_booking bigint) RETURNS json
LANGUAGE sql STABLE AS $$
        SELECT booking_card(p_tenant, b.id) FROM bookings b
        WHERE b.tenant_id = p_tenant AND b.id = p_booking AND b.customer_id = p_customer
$$;

-- @user as a customer of @tenant, remembered with their name and language: {"phone", "lang"}.
CREATE FUNCTION booking_customer_json(p_tenant bigint, p_user bigint, p_name text, p_lang text)
RETURNS json LANGUAGE plpgsql AS $$
BEGIN
        PERFORM booking_customer_seen(p_tenant, p_user, p_name, p_lang);
        RETURN (SELECT json_build_object('phone', c.phone, 'lang', c.lang) FROM booking_customers c
                WHERE c.tenant_id = p_tenant AND c.telegram_id = p_user);
END $$;
