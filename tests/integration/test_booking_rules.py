# SPDX-License-Identifier: MIT
"""The booking rules, enforced by PostgreSQL itself (migrations/0020–0022): no double booking under
racing customers, blocked time and buffers, wall-clock hours across both DST changes of two zones,
starts nobody was offered refused, the one-transaction move, the customer's limit and the
business's deadline, and no reference from one business into another's data."""

from concurrent.futures import ThreadPoolExecutor

from harness import psql, psql_fails, run_tests
from test_ledger import migrated


def business(db, zone="Europe/Berlin", bot_id=777, hours="[09:00,13:00)", staff=("Anna", "Olga"), duration=60,
             buffer=0, step=30):
    """A tenant with one service done by @staff, each working @hours every day; returns
    (tenant, service, [staff ids])."""
    tenant = int(psql("SELECT id FROM tenant_add('Salon %d', 42, %d, 'salon%d_bot', '%s', 'test')"
                      % (bot_id, bot_id, bot_id, zone), db))
    service = int(psql("INSERT INTO booking_services (tenant_id, name, duration_min, buffer_min, price_minor) "
                       "VALUES (%d, 'Cut', %d, %d, 150000) RETURNING id" % (tenant, duration, buffer), db).split()[0])
    ids = []
    for name in staff:
        s = int(psql("INSERT INTO booking_staff (tenant_id, name) VALUES (%d, '%s') RETURNING id" % (tenant, name),
                     db).split()[0])
        psql("INSERT INTO booking_staff_services VALUES (%d, %d, %d)" % (tenant, s, service), db)
        psql("INSERT INTO booking_hours SELECT %d, %d, d, '%s' FROM generate_series(1, 7) d" % (tenant, s, hours), db)
        ids.append(s)
    psql("UPDATE booking_profiles SET horizon_days = 365, slot_step_min = %d WHERE tenant_id = %d" % (step, tenant), db)
    return tenant, service, ids


def at(tenant, day, wall):
    """The SQL for the instant of wall-clock @wall on @day (SQL) in @tenant's zone."""
    return ("((%s) + time '%s') AT TIME ZONE (SELECT time_zone FROM tenants WHERE id = %d)" % (day, wall, tenant))


def free(db, tenant, service, day, staff="NULL"):
    return psql("SELECT local FROM booking_free_slots(%d, %d, %s, %s)" % (tenant, service, staff, day), db).split()


def book(db, tenant, customer, service, starts, staff="NULL"):
    return psql("SELECT outcome, coalesce(booking_id, 0) FROM booking_book(%d, %d, %d, %s, %s)"
                % (tenant, customer, service, staff, starts), db).split("|")


SOON = "current_date + 3"


def test_two_hundred_customers_racing_for_one_slot_make_exactly_one_booking(workdir):
    """200 customers press the same last free start at once: one is booked, 199 are told it is taken,
    and the slot is offered no more; the nearest free ones are what they see instead."""
    db = migrated(workdir)
    tenant, service, _ = business(db, staff=("Anna",))
    starts = at(tenant, SOON, "10:00")
    with ThreadPoolExecutor(60) as pool:
        outcomes = list(pool.map(lambda c: book(db, tenant, 1000 + c, service, starts)[0], range(200)))
    assert outcomes.count("booked") == 1 and outcomes.count("taken") == 199, sorted(set(outcomes))
    assert psql("SELECT count(*) FROM bookings", db) == "1"
    assert "10:00" not in free(db, tenant, service, SOON)
    nearest = psql("SELECT local FROM booking_nearest_slots(%d, %d, NULL, %s, 3)" % (tenant, service, starts),
                   db).splitlines()
    assert [n[-5:] for n in nearest] == ["11:00", "11:30", "12:00"], nearest   # 10:30 would overlap


def test_staff_anyone_buffers_and_blocked_time(workdir):
    """"Anyone" goes to the first free staff member, then the next; a service's buffer keeps the
    time after a visit free; blocked time (one staff member's, or the whole business's, even for
    staff added later) is not offered, and cannot be laid over a booking."""
    db = migrated(workdir)
    tenant, service, (anna, olga) = business(db, buffer=30)
    starts = at(tenant, SOON, "09:00")
    first, second = book(db, tenant, 1, service, starts), book(db, tenant, 2, service, starts)
    assert first[0] == second[0] == "booked"
    assert psql("SELECT staff_id FROM bookings ORDER BY id", db).split() == [str(anna), str(olga)]
    assert book(db, tenant, 3, service, starts)[0] == "taken"
    # 60 minutes and a buffer of 30: Anna is free again at 10:30, not at 10:00.
    assert free(db, tenant, service, SOON, anna)[:2] == ["10:30", "11:00"]
    # Olga blocks 12:00–13:00 (and the buffer may not run into it); the business closes the day after.
    psql("INSERT INTO booking_blocks (tenant_id, staff_id, during, reason, created_by) VALUES "
         "(%d, %d, tstzrange(%s, %s), 'dentist', 42)" % (tenant, olga, at(tenant, SOON, "12:00"),
                                                         at(tenant, SOON, "13:00")), db)
    assert free(db, tenant, service, SOON, olga) == ["10:30"], free(db, tenant, service, SOON, olga)
    psql("INSERT INTO booking_blocks (tenant_id, during, reason, created_by) VALUES "
         "(%d, tstzrange(%s, %s), 'holiday', 42)" % (tenant, at(tenant, SOON + " + 1", "00:00"),
                                                     at(tenant, SOON + " + 2", "00:00")), db)
    assert free(db, tenant, service, SOON + " + 1") == []
    new = int(psql("INSERT INTO booking_staff (tenant_id, name) VALUES (%d, 'Ira') RETURNING id" % tenant,
                   db).split()[0])
    psql("INSERT INTO booking_staff_services VALUES (%d, %d, %d)" % (tenant, new, service), db)
    psql("INSERT INTO booking_hours SELECT %d, %d, d, '[09:00,13:00)' FROM generate_series(1, 7) d" % (tenant, new), db)
    assert free(db, tenant, service, SOON + " + 1") == []
    assert free(db, tenant, service, SOON + " + 2") != []
    # A block over Anna's booking is refused by the database.
    err = psql_fails("INSERT INTO booking_blocks (tenant_id, staff_id, during, created_by) VALUES "
                     "(%d, %d, tstzrange(%s, %s), 42)" % (tenant, anna, at(tenant, SOON, "09:30"),
                                                          at(tenant, SOON, "09:45")), db)
    assert "23P01" in err, err
    # And so is a second booking laid over the first, however it is written.
    err = psql_fails("INSERT INTO bookings (tenant_id, customer_id, service_id, staff_id, during, price_minor, status) "
                     "VALUES (%d, 1, %d, %d, tstzrange(%s, %s), 0, 'confirmed')"
                     % (tenant, service, anna, at(tenant, SOON, "09:50"), at(tenant, SOON, "10:10")), db)
    assert "23P01" in err, err


def dst_days(db, zone):
    """The next two dates on which @zone's clocks change (the local day is not 24 hours long)."""
    return psql("SELECT d::date FROM generate_series(current_date + 1, current_date + 365, interval '1 day') d "
                "WHERE ((d::date + 1)::timestamp AT TIME ZONE '%s') - (d::date::timestamp AT TIME ZONE '%s') "
                "<> interval '24 hours' ORDER BY d LIMIT 2" % (zone, zone), db).split()


def test_wall_clock_hours_across_both_dst_changes(workdir):
    """Berlin and New York, on the days their clocks go forward and back: the skipped hour's times
    are not offered, the repeated hour's are offered once, every slot is a real hour long, and a
    10:00 booking made for the day after the change is at 10:00 local."""
    db = migrated(workdir)
    for bot_id, zone in ((801, "Europe/Berlin"), (802, "America/New_York")):
        tenant, service, _ = business(db, zone=zone, bot_id=bot_id, hours="[00:00,05:00)", staff=("Anna",),
                                      duration=30)
        days = dst_days(db, zone)
        assert len(days) == 2, days
        for day in days:
            slots = free(db, tenant, service, "'%s'::date" % day)
            length = psql("SELECT extract(epoch FROM (('%s'::date + 1)::timestamp AT TIME ZONE '%s') - "
                          "('%s'::date::timestamp AT TIME ZONE '%s')) / 3600" % (day, zone, day, zone), db)
            skipped = {"Europe/Berlin": ["02:00", "02:30"], "America/New_York": ["02:00", "02:30"]}[zone]
            if float(length) < 24:      # forward: 02:00–02:59 does not exist
                assert slots == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30"], (zone, day, slots)
                assert not set(skipped) & set(slots)
            else:                       # back: the repeated hour once
                assert slots == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30",
                                 "04:00", "04:30"], (zone, day, slots)
                assert len(set(slots)) == len(slots)
            # Every offered start is a distinct instant, 30 real minutes long visits end by 05:00 local.
            assert psql("SELECT count(DISTINCT starts) FROM booking_free_slots(%d, %d, NULL, '%s')"
                        % (tenant, service, day), db) == str(len(slots))
            # 10:00 the day after is 10:00 local, though the offset is not the one before the change.
            psql("INSERT INTO booking_hours VALUES (%d, (SELECT id FROM booking_staff WHERE tenant_id = %d), "
                 "extract(isodow FROM '%s'::date + 1), '[09:00,12:00)') ON CONFLICT DO NOTHING"
                 % (tenant, tenant, day), db)
            customer = 5000 + bot_id
            outcome = book(db, tenant, customer, service, at(tenant, "'%s'::date + 1" % day, "10:00"))
            assert outcome[0] == "booked", outcome
            local = psql("SELECT local FROM booking_customer_bookings(%d, %d) WHERE id = %s"
                         % (tenant, customer, outcome[1]), db)
            assert local.endswith(" 10:00"), local
            before = psql("SELECT to_char(('%s'::date - 1 + time '10:00') AT TIME ZONE '%s', 'HH24:MI')" % (day, zone), db)
            after = psql("SELECT to_char(lower(during), 'HH24:MI') FROM bookings WHERE id = %s" % outcome[1], db)
            assert before != after, (zone, day, before, after)   # the UTC time moved; the local one did not


def test_starts_nobody_was_offered_book_nothing(workdir):
    """A forged or stale start — off the slot step, past, before the lead time, outside the hours,
    beyond the horizon, another business's service — is "taken" or "no_service", never a booking;
    and the database refuses a booking that points into another business's data."""
    db = migrated(workdir)
    tenant, service, (anna, _) = business(db)
    other, other_service, (other_staff,) = business(db, bot_id=778, staff=("Max",))
    for starts in (at(tenant, SOON, "10:10"), at(tenant, "current_date - 1", "10:00"), "now() + interval '10 minutes'",
                   at(tenant, SOON, "08:30"), at(tenant, SOON, "12:30"), at(tenant, "current_date + 400", "10:00")):
        assert book(db, tenant, 7, service, starts)[0] == "taken", starts
    assert book(db, tenant, 7, other_service, at(tenant, SOON, "10:00"))[0] == "no_service"
    assert book(db, tenant, 7, service, at(tenant, SOON, "10:00"), staff=str(other_staff))[0] == "taken"
    assert psql("SELECT count(*) FROM bookings", db) == "0"
    psql("INSERT INTO booking_customers (tenant_id, telegram_id) VALUES (%d, 7) ON CONFLICT DO NOTHING" % tenant, db)
    err = psql_fails("INSERT INTO bookings (tenant_id, customer_id, service_id, staff_id, during, price_minor, status) "
                     "VALUES (%d, 7, %d, %d, tstzrange(now() + interval '1 day', now() + interval '25 hours'), 0, "
                     "'confirmed')" % (tenant, service, other_staff), db)
    assert "23503" in err, err
    # Nor can a booking be cancelled or moved through another business.
    booked = book(db, tenant, 7, service, at(tenant, SOON, "10:00"))
    assert booked[0] == "booked"
    assert psql("SELECT outcome FROM booking_cancel(%d, %s, 42, 'owner', 'x')" % (other, booked[1]), db) == "not_found"
    assert psql("SELECT status FROM bookings WHERE id = %s" % booked[1], db) == "confirmed"


def test_move_limit_deadline_and_history(workdir):
    """A move takes the new time and frees the old in one go, keeps the booking when the new time
    is gone, and may overlap the booking's own old time; a customer has at most the business's
    number of active bookings and changes them only before its deadline; every change is in the
    history with who made it."""
    db = migrated(workdir)
    tenant, service, _ = business(db, staff=("Anna",))
    psql("UPDATE booking_profiles SET max_active = 2, change_deadline_min = 1440 WHERE tenant_id = %d" % tenant, db)
    b = book(db, tenant, 1, service, at(tenant, SOON, "09:00"))[1]
    assert book(db, tenant, 2, service, at(tenant, SOON, "11:00"))[0] == "booked"
    move = "SELECT outcome FROM booking_reschedule(%d, %s, %d, NULL, %s)"
    assert psql(move % (tenant, b, 1, at(tenant, SOON, "09:30")), db) == "moved"    # over its own old time
    assert psql(move % (tenant, b, 1, at(tenant, SOON, "11:30")), db) == "taken"    # customer 2's
    assert psql(move % (tenant, b, 2, at(tenant, SOON, "12:00")), db) == "not_found"  # not theirs
    assert psql("SELECT to_char(lower(during) AT TIME ZONE 'Europe/Berlin', 'HH24:MI') FROM bookings WHERE id = %s" % b,
                db) == "09:30"
    assert "09:00" not in free(db, tenant, service, SOON)
    assert psql(move % (tenant, b, 1, at(tenant, SOON, "12:00")), db) == "moved"
    assert "09:00" in free(db, tenant, service, SOON)          # the old time is free again
    assert book(db, tenant, 1, service, at(tenant, SOON + " + 1", "09:00"))[0] == "booked"
    assert book(db, tenant, 1, service, at(tenant, SOON + " + 2", "09:00"))[0] == "limit"
    # Tomorrow morning is within the 24 h deadline.
    psql("UPDATE booking_profiles SET lead_min = 0 WHERE tenant_id = %d" % tenant, db)
    soon = psql("SELECT booking_id FROM booking_book(%d, 3, %d, NULL, (SELECT starts FROM booking_nearest_slots(%d, %d, "
                "NULL, now(), 1)))" % (tenant, service, tenant, service), db)
    assert soon
    assert psql("SELECT outcome FROM booking_cancel(%d, %s, 3, 'customer', '')" % (tenant, soon), db) == "too_late"
    assert psql("SELECT outcome FROM booking_cancel(%d, %s, 42, 'owner', 'ill')" % (tenant, soon), db) == "cancelled"
    assert psql("SELECT outcome FROM booking_cancel(%d, %s, 42, 'owner', 'ill')" % (tenant, soon), db) == "not_active"
    assert psql("SELECT actor, old_status, new_status, reason FROM booking_history WHERE booking_id = %s ORDER BY id"
                % soon, db).splitlines() == ["customer:3||confirmed|", "owner:42|confirmed|cancelled_business|ill"]
    assert psql("SELECT count(*) FROM booking_history WHERE booking_id = %s" % b, db) == "3"
    assert "bookings is append-only" in psql_fails("DELETE FROM bookings WHERE id = %s" % b, db)
    assert "append-only" in psql_fails("UPDATE booking_history SET actor = 'x'", db)


if __name__ == "__main__":
    run_tests(globals())
