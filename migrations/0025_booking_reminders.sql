-- Reminders of confirmed bookings, a durable schedule: one row per booking and offset of the
-- business's reminders_min (default 24 h and 2 h before), planned by a trigger whenever a booking
-- is made, confirmed, moved or cancelled. tgfleet-bookingd publishes each row once due as a
-- booking.reminder event to the tenant bot's events stream (an outbox: at least once, with the
-- row's id as the event, which the bot dedupes), and the bot checks the booking again before it
-- tells the customer: never for a cancelled booking, never the old time of a moved one.

CREATE TABLE booking_reminders (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        booking_id      bigint NOT NULL REFERENCES bookings (id),
        offset_min      integer NOT NULL CHECK (offset_min > 0),
        starts          timestamptz NOT NULL,             -- the booking's start it reminds of
        due_at          timestamptz NOT NULL,
        published       boolean NOT NULL DEFAULT false
);
CREATE INDEX booking_reminders_due ON booking_reminders (due_at) WHERE NOT published;
CREATE INDEX booking_reminders_of_booking ON booking_reminders (booking_id);

-- The customer's "I'll come" under a reminder.
ALTER TABLE bookings ADD COLUMN coming_at timestamptz;

-- A booking's reminders follow it: the ones not yet sent go when it stops being confirmed or
-- moves, and a confirmed booking gets one per offset still ahead of it.
CREATE FUNCTION booking_reminders_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.during = OLD.during THEN
                RETURN NEW;
        END IF;
        DELETE FROM booking_reminders r WHERE r.booking_id = NEW.id AND NOT r.published;
        IF NEW.status = 'confirmed' THEN
                INSERT INTO booking_reminders (tenant_id, booking_id, offset_min, starts, due_at)
                SELECT NEW.tenant_id, NEW.id, o, lower(NEW.during), lower(NEW.during) - make_interval(mins => o)
                FROM booking_profiles p, unnest(p.reminders_min) o
                WHERE p.tenant_id = NEW.tenant_id AND lower(NEW.during) - make_interval(mins => o) > now()
                  AND NOT EXISTS (SELECT 1 FROM booking_reminders r WHERE r.booking_id = NEW.id AND r.offset_min = o
                                  AND r.starts = lower(NEW.during));
        END IF;
        RETURN NEW;
END $$;
CREATE TRIGGER bookings_reminders AFTER INSERT OR UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION booking_reminders_plan();

-- What bookingd publishes, oldest due first: the reminders due and not yet published (all of
-- bookings confirmed for that start: the trigger took the others away), as the event's fields.
CREATE FUNCTION booking_reminders_due(p_limit integer)
RETURNS TABLE (id bigint, event text, type text, bot text, "user" bigint, booking bigint, starts bigint,
               offset_min integer, lang text)
LANGUAGE sql STABLE AS $$
        SELECT r.id, 'reminder:' || r.id, 'booking.reminder', 'tenant-' || r.tenant_id, b.customer_id, b.id,
               extract(epoch FROM r.starts)::bigint, r.offset_min, c.lang
        FROM booking_reminders r
        JOIN bookings b ON b.id = r.booking_id
        JOIN booking_customers c ON c.tenant_id = b.tenant_id AND c.telegram_id = b.customer_id
        WHERE NOT r.published AND r.due_at <= now()
        ORDER BY r.due_at, r.id
        LIMIT p_limit
$$;

-- @customer's "I'll come" for their confirmed, upcoming booking @booking. Outcomes: noted,
-- not_active, not_found (not theirs).
CREATE FUNCTION booking_coming(p_tenant bigint, p_customer bigint, p_booking bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
        b bookings%ROWTYPE;
BEGIN
        SELECT * INTO b FROM bookings k
        WHERE k.id = p_booking AND k.tenant_id = p_tenant AND k.customer_id = p_customer FOR UPDATE;
        IF NOT FOUND THEN
                RETURN 'not_found';
        END IF;
        IF b.status <> 'confirmed' OR upper(b.during) <= now() THEN
                RETURN 'not_active';
        END IF;
        UPDATE bookings k SET coming_at = coalesce(k.coming_at, now()) WHERE k.id = b.id;
        RETURN 'noted';
END $$;

-- The business's card says when the customer said they will come.
CREATE OR REPLACE FUNCTION booking_admin_card(p_tenant bigint, p_booking bigint) RETURNS json LANGUAGE sql STABLE AS $$
        SELECT (booking_card(p_tenant, b.id)::jsonb || jsonb_build_object(
                        'customer_name', c.name, 'customer_phone', c.phone, 'reason', b.reason,
                        'ends', to_char(upper(b.during) AT TIME ZONE t.time_zone, 'HH24:MI'),
                        'day', (lower(b.during) AT TIME ZONE t.time_zone)::date,
                        'started', lower(b.during) <= now(), 'rating', b.rating,
                        'coming', b.coming_at IS NOT NULL))::json
        FROM bookings b
        JOIN tenants t ON t.id = b.tenant_id
        JOIN booking_customers c ON c.tenant_id = b.tenant_id AND c.telegram_id = b.customer_id
        WHERE b.tenant_id = p_tenant AND b.id = p_booking
$$;

-- Bookings made before reminders existed get theirs.
INSERT INTO booking_reminders (tenant_id, booking_id, offset_min, starts, due_at)
SELECT b.tenant_id, b.id, o, lower(b.during), lower(b.during) - make_interval(mins => o)
FROM bookings b JOIN booking_profiles p ON p.tenant_id = b.tenant_id, unnest(p.reminders_min) o
WHERE b.status = 'confirmed' AND lower(b.during) - make_interval(mins => o) > now();
