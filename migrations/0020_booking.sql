-- The booking bot's data: per tenant (business) its profile and rules, services, staff, working
-- hours, blocked time, customers and bookings. Every row carries its tenant, and every reference
-- between rows names the tenant too (composite foreign keys): a booking cannot point at another
-- business's service, staff member or customer, whatever the caller sends.
--
-- No double booking, by the database: every stretch of a staff member's time that is spoken for —
-- a booking that holds its slot (with the service's buffer after it), or blocked time — is a row
-- of booking_busy, whose exclusion constraint refuses two that overlap for the same staff member,
-- under any concurrency. Triggers keep booking_busy in step with bookings and blocks.
--
-- Times: working hours are wall-clock times in the tenant's zone (tenants.time_zone); bookings
-- and blocks are instants (timestamptz).

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- A stretch of wall-clock time within a day: [09:00, 13:00), up to [.., 24:00).
CREATE TYPE timerange AS RANGE (subtype = time);

-- What customers read of the business, and the rules its bookings follow.
CREATE TABLE booking_profiles (
        tenant_id       bigint PRIMARY KEY REFERENCES tenants (id),
        about           text NOT NULL DEFAULT '' CHECK (length(about) <= 2000),
        address         text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
        phone           text NOT NULL DEFAULT '' CHECK (phone ~ '^(\+?[0-9][0-9 ()-]{4,22})?$'),
        latitude        numeric(8, 6) CHECK (latitude BETWEEN -90 AND 90),
        longitude       numeric(9, 6) CHECK (longitude BETWEEN -180 AND 180),
        currency        text NOT NULL DEFAULT 'RUB' CHECK (currency ~ '^[A-Z]{3}$'),
        slot_step_min   integer NOT NULL DEFAULT 30 CHECK (slot_step_min IN (5, 10, 15, 20, 30, 45, 60, 90, 120)),
        lead_min        integer NOT NULL DEFAULT 60 CHECK (lead_min BETWEEN 0 AND 10080),       -- the soonest a booking starts
        horizon_days    integer NOT NULL DEFAULT 30 CHECK (horizon_days BETWEEN 1 AND 365),     -- the latest day offered
        change_deadline_min integer NOT NULL DEFAULT 720 CHECK (change_deadline_min BETWEEN 0 AND 10080),  -- cancel or move until then
        max_active      integer NOT NULL DEFAULT 3 CHECK (max_active BETWEEN 1 AND 50),          -- per customer
        approval        boolean NOT NULL DEFAULT false,   -- bookings are requests the owner approves
        phone_required  boolean NOT NULL DEFAULT false,
        reminders_min   integer[] NOT NULL DEFAULT '{1440,120}'
                        CHECK (cardinality(reminders_min) <= 4 AND 15 <= ALL (reminders_min) AND 10080 >= ALL (reminders_min)),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((latitude IS NULL) = (longitude IS NULL))
);

CREATE TABLE booking_services (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 64),
        description     text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
        duration_min    integer NOT NULL CHECK (duration_min BETWEEN 5 AND 720),
        buffer_min      integer NOT NULL DEFAULT 0 CHECK (buffer_min BETWEEN 0 AND 240),   -- kept free after each visit
        price_minor     bigint NOT NULL CHECK (price_minor BETWEEN 0 AND 100000000000),
        active          boolean NOT NULL DEFAULT true,
        position        integer NOT NULL DEFAULT 0,
        UNIQUE (tenant_id, id)
);

CREATE TABLE booking_staff (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 64),
        telegram_id     bigint CHECK (telegram_id > 0),     -- sees and manages their own schedule
        active          boolean NOT NULL DEFAULT true,
        position        integer NOT NULL DEFAULT 0,
        UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX booking_staff_one_account ON booking_staff (tenant_id, telegram_id);

-- Which services each staff member does.
CREATE TABLE booking_staff_services (
        tenant_id       bigint NOT NULL,
        staff_id        bigint NOT NULL,
        service_id      bigint NOT NULL,
        PRIMARY KEY (staff_id, service_id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES booking_staff (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, service_id) REFERENCES booking_services (tenant_id, id) ON DELETE CASCADE
);

-- Weekly working hours, several intervals a day, none overlapping.
CREATE TABLE booking_hours (
        tenant_id       bigint NOT NULL,
        staff_id        bigint NOT NULL,
        weekday         smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),   -- ISO: 1 is Monday
        hours           timerange NOT NULL CHECK (NOT isempty(hours) AND lower_inc(hours) AND NOT upper_inc(hours)
                                                  AND NOT lower_inf(hours) AND NOT upper_inf(hours)),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES booking_staff (tenant_id, id) ON DELETE CASCADE,
        EXCLUDE USING gist (staff_id WITH =, weekday WITH =, hours WITH &&)
);

-- Blocked time (days off, holidays, a break): one staff member's, or the whole business's.
CREATE TABLE booking_blocks (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        staff_id        bigint,                            -- NULL: everyone
        during          tstzrange NOT NULL CHECK (NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)),
        reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
        created_by      bigint NOT NULL,                  -- the Telegram id of who blocked it
        created_at      timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES booking_staff (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE booking_customers (
        tenant_id       bigint NOT NULL REFERENCES tenants (id),
        telegram_id     bigint NOT NULL CHECK (telegram_id > 0),
        name            text NOT NULL DEFAULT '' CHECK (length(name) <= 128),
        phone           text CHECK (phone ~ '^\+?[0-9]{7,15}$'),
        lang            text NOT NULL DEFAULT 'ru' CHECK (lang IN ('ru', 'en')),
        opted_out       boolean NOT NULL DEFAULT false,   -- of the business's broadcasts
        first_seen      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, telegram_id)
);

CREATE TYPE booking_status AS ENUM (
        'requested',            -- waits for the owner's approval; holds the slot
        'confirmed',            -- holds the slot
        'cancelled_customer',
        'cancelled_business',   -- cancelled by the owner or staff, or a request declined
        'completed',
        'no_show'
);

CREATE TABLE bookings (
        id              bigserial PRIMARY KEY,
        tenant_id       bigint NOT NULL,
        customer_id     bigint NOT NULL,
        service_id      bigint NOT NULL,
        staff_id        bigint NOT NULL,
        during          tstzrange NOT NULL CHECK (NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)),
        buffer_min      integer NOT NULL DEFAULT 0 CHECK (buffer_min >= 0),   -- the service's, when booked
        price_minor     bigint NOT NULL CHECK (price_minor >= 0),             -- the service's, when booked
        status          booking_status NOT NULL,
        reason          text CHECK (length(reason) <= 300),                   -- why the business cancelled
        rating          smallint CHECK (rating BETWEEN 1 AND 5),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES booking_customers (tenant_id, telegram_id),
        FOREIGN KEY (tenant_id, service_id) REFERENCES booking_services (tenant_id, id),
        FOREIGN KEY (tenant_id, staff_id) REFERENCES booking_staff (tenant_id, id),
        CHECK (rating IS NULL OR status = 'completed')
);
CREATE INDEX bookings_by_customer ON bookings (tenant_id, customer_id, lower(during));
CREATE INDEX bookings_by_day ON bookings (tenant_id, lower(during));

-- Every change of a booking, written by the trigger below; the actor is the session's
-- "tgfleet.actor" setting ("customer:<id>", "owner:<id>", "staff:<id>", "system").
CREATE TABLE booking_history (
        id              bigserial PRIMARY KEY,
        booking_id      bigint NOT NULL REFERENCES bookings (id),
        at              timestamptz NOT NULL DEFAULT now(),
        actor           text NOT NULL,
        old_status      booking_status,
        new_status      booking_status NOT NULL,
        old_during      tstzrange,
        new_during      tstzrange NOT NULL,
        old_staff_id    bigint,
        new_staff_id    bigint NOT NULL,
        reason          text
);
CREATE INDEX booking_history_by_booking ON booking_history (booking_id, at);
CREATE TRIGGER booking_history_append_only BEFORE UPDATE OR DELETE ON booking_history
        FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Every stretch of a staff member's time that is spoken for. Written only by the triggers.
CREATE TABLE booking_busy (
        staff_id        bigint NOT NULL REFERENCES booking_staff (id) ON DELETE CASCADE,
        held            tstzrange NOT NULL,
        booking_id      bigint REFERENCES bookings (id) ON DELETE CASCADE,
        block_id        bigint REFERENCES booking_blocks (id) ON DELETE CASCADE,
        CHECK ((booking_id IS NULL) <> (block_id IS NULL)),
        EXCLUDE USING gist (staff_id WITH =, held WITH &&)
);
CREATE UNIQUE INDEX booking_busy_of_booking ON booking_busy (booking_id);
CREATE INDEX booking_busy_of_block ON booking_busy (block_id);

CREATE FUNCTION booking_status_holds(s booking_status) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
        SELECT s IN ('requested', 'confirmed')
$$;

-- A booking holds its staff member's time, buffer included, while it is requested or confirmed;
-- an overlap fails the statement with 23P01 (exclusion_violation). Each change goes to the history.
CREATE FUNCTION booking_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF TG_OP = 'UPDATE' THEN
                IF NEW.tenant_id <> OLD.tenant_id OR NEW.customer_id <> OLD.customer_id THEN
                        RAISE EXCEPTION 'a booking stays with its tenant and customer' USING ERRCODE = '22023';
                END IF;
                IF NEW.status = OLD.status AND NEW.during = OLD.during AND NEW.staff_id = OLD.staff_id THEN
                        RETURN NEW;
                END IF;
                DELETE FROM booking_busy WHERE booking_id = NEW.id;
        END IF;
        IF booking_status_holds(NEW.status) THEN
                INSERT INTO booking_busy (staff_id, held, booking_id)
                VALUES (NEW.staff_id, tstzrange(lower(NEW.during), upper(NEW.during) + make_interval(mins => NEW.buffer_min)),
                        NEW.id);
        END IF;
        INSERT INTO booking_history (booking_id, actor, old_status, new_status, old_during, new_during, old_staff_id,
                                     new_staff_id, reason)
        VALUES (NEW.id, coalesce(nullif(current_setting('tgfleet.actor', true), ''), 'system'),
                CASE TG_OP WHEN 'UPDATE' THEN OLD.status END, NEW.status,
                CASE TG_OP WHEN 'UPDATE' THEN OLD.during END, NEW.during,
                CASE TG_OP WHEN 'UPDATE' THEN OLD.staff_id END, NEW.staff_id, NEW.reason);
        RETURN NEW;
END $$;
CREATE TRIGGER bookings_track AFTER INSERT OR UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION booking_track();
CREATE TRIGGER bookings_kept BEFORE DELETE ON bookings FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A block holds the time of its staff member, or of every staff member of the business (those
-- added later too, see below); a booking in the way fails the statement with 23P01.
CREATE FUNCTION booking_block_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF TG_OP = 'UPDATE' THEN
                RAISE EXCEPTION 'a block is removed and added again, not changed' USING ERRCODE = '22023';
        END IF;
        INSERT INTO booking_busy (staff_id, held, block_id)
        SELECT s.id, NEW.during, NEW.id FROM booking_staff s
        WHERE s.tenant_id = NEW.tenant_id AND (NEW.staff_id IS NULL OR s.id = NEW.staff_id);
        RETURN NEW;
END $$;
CREATE TRIGGER booking_blocks_track AFTER INSERT OR UPDATE ON booking_blocks FOR EACH ROW EXECUTE FUNCTION booking_block_track();

CREATE FUNCTION booking_staff_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        INSERT INTO booking_busy (staff_id, held, block_id)
        SELECT NEW.id, b.during, b.id FROM booking_blocks b
        WHERE b.tenant_id = NEW.tenant_id AND b.staff_id IS NULL AND upper(b.during) > now();
        RETURN NEW;
END $$;
CREATE TRIGGER booking_staff_track AFTER INSERT ON booking_staff FOR EACH ROW EXECUTE FUNCTION booking_staff_track();

-- Every tenant has its profile, with the default rules until the owner changes one.
CREATE FUNCTION booking_profile_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        INSERT INTO booking_profiles (tenant_id) VALUES (NEW.id);
        RETURN NEW;
END $$;
CREATE TRIGGER tenants_booking_profile AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION booking_profile_add();
INSERT INTO booking_profiles (tenant_id) SELECT id FROM tenants;
