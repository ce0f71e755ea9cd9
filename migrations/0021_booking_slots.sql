-- Free slots, computed per date with the tenant's time-zone rules. Slots are where bookings come
-- from: booking_book() and booking_reschedule() take only a start these functions offer, so a
-- forged or stale start (past, outside the hours, taken, of another business) books nothing.

-- Every (start, staff member) at which @service can be booked on @day, a date in the tenant's
-- zone, by any staff member who does it (@staff NULL) or by @staff:
--  - within the staff member's working hours of that weekday, wall-clock: a start on the slot
--    step from the interval's start, the visit ending within the interval;
--  - not before now + the lead time, and @day within the horizon;
--  - nothing busy (bookings with their buffers, blocked time) in the way of the visit and its
--    buffer; the time of booking @ignore does not count (the one being moved).
-- A wall time the day does not have (clocks going forward) is not offered; one it has twice
-- (going back) is offered once, as its later instant. Durations are real minutes.
CREATE FUNCTION booking_open_slots(p_tenant bigint, p_service bigint, p_staff bigint, p_day date,
                                   p_ignore bigint DEFAULT NULL)
RETURNS TABLE (starts timestamptz, staff_id bigint, staff_position integer)
LANGUAGE sql STABLE AS $$
        WITH c AS (
                SELECT t.time_zone AS tz, p.slot_step_min, p.lead_min, p.horizon_days, s.duration_min, s.buffer_min
                FROM tenants t
                JOIN booking_profiles p ON p.tenant_id = t.id
                JOIN booking_services s ON s.tenant_id = t.id AND s.id = p_service AND s.active
                WHERE t.id = p_tenant
        )
        SELECT i.starts, st.id, st.position
        FROM c
        JOIN booking_staff st ON st.tenant_id = p_tenant AND st.active AND (p_staff IS NULL OR st.id = p_staff)
        JOIN booking_staff_services ss ON ss.staff_id = st.id AND ss.service_id = p_service
        JOIN booking_hours h ON h.staff_id = st.id AND h.weekday = extract(isodow FROM p_day)
        CROSS JOIN LATERAL generate_series(p_day + lower(h.hours),
                                           p_day + upper(h.hours) - make_interval(mins => c.duration_min),
                                           make_interval(mins => c.slot_step_min)) AS w(wall)
        CROSS JOIN LATERAL (SELECT w.wall AT TIME ZONE c.tz AS starts) i
        WHERE p_day <= (now() AT TIME ZONE c.tz)::date + c.horizon_days
          AND i.starts >= now() + make_interval(mins => c.lead_min)
          AND (i.starts AT TIME ZONE c.tz) = w.wall
          AND (i.starts + make_interval(mins => c.duration_min)) AT TIME ZONE c.tz <= p_day + upper(h.hours)
          AND NOT EXISTS (SELECT 1 FROM booking_busy b
                          WHERE b.staff_id = st.id
                            AND b.held && tstzrange(i.starts, i.starts + make_interval(mins => c.duration_min + c.buffer_min))
                            AND (p_ignore IS NULL OR b.booking_id IS DISTINCT FROM p_ignore))
$$;

-- What a customer picks from: each free start of @day once, with the staff member it would go
-- to (the first free one in the business's order), and its wall-clock time "HH:MM".
CREATE FUNCTION booking_free_slots(p_tenant bigint, p_service bigint, p_staff bigint, p_day date)
RETURNS TABLE (starts timestamptz, staff_id bigint, local text)
LANGUAGE sql STABLE AS $$
        SELECT DISTINCT ON (o.starts) o.starts, o.staff_id,
               to_char(o.starts AT TIME ZONE (SELECT time_zone FROM tenants WHERE id = p_tenant), 'HH24:MI')
        FROM booking_open_slots(p_tenant, p_service, p_staff, p_day) o
        ORDER BY o.starts, o.staff_position, o.staff_id
$$;

-- The calendar: for each date from @from to @to, how many starts are free.
CREATE FUNCTION booking_free_days(p_tenant bigint, p_service bigint, p_staff bigint, p_from date, p_to date)
RETURNS TABLE (day date, free integer)
LANGUAGE sql STABLE AS $$
        SELECT d::date, (SELECT count(DISTINCT o.starts)::integer
                         FROM booking_open_slots(p_tenant, p_service, p_staff, d::date) o)
        FROM generate_series(p_from, p_to, interval '1 day') d
$$;

-- The @n free starts soonest at or after @after, within the horizon: what a customer who just
-- lost a slot is offered instead, each with its local date and time "YYYY-MM-DD HH:MM".
CREATE FUNCTION booking_nearest_slots(p_tenant bigint, p_service bigint, p_staff bigint, p_after timestamptz,
                                      p_n integer)
RETURNS TABLE (starts timestamptz, staff_id bigint, local text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
        tz text;
        horizon integer;
        d date;
        left_ integer := p_n;
        r record;
BEGIN
        SELECT t.time_zone, p.horizon_days INTO tz, horizon
        FROM tenants t JOIN booking_profiles p ON p.tenant_id = t.id WHERE t.id = p_tenant;
        IF NOT FOUND THEN
                RETURN;
        END IF;
        d := greatest((p_after AT TIME ZONE tz)::date, (now() AT TIME ZONE tz)::date);
        WHILE left_ > 0 AND d <= (now() AT TIME ZONE tz)::date + horizon LOOP
                FOR r IN SELECT f.starts, f.staff_id, f.local FROM booking_free_slots(p_tenant, p_service, p_staff, d) f
                         WHERE f.starts >= p_after ORDER BY f.starts LIMIT left_ LOOP
                        starts := r.starts;
                        staff_id := r.staff_id;
                        local := to_char(r.starts AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI');
                        left_ := left_ - 1;
                        RETURN NEXT;
                END LOOP;
                d := d + 1;
        END LOOP;
END $$;
