# SPDX-License-Identifier: MIT
"""tgfleet-bookingd on its own socket, called as busctl calls it: a tenant bot's process
(its user tgfleet-bot-<tenant>, as the template unit names it) books, lists and cancels in its own
business, and the same calls from another business's process find nothing of it; a process that
is no tenant bot, root included, is refused and changes nothing; values the database refuses are
InvalidArgument; and the whole fleet's calls share one PostgreSQL connection.

The users are what bookingd's NSS says they are: here nss_wrapper's passwd file, under systemd
nss-systemd's dynamic users."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

from harness import BUILD, BookingSocket, Service, psql, run_tests
from test_booking_rules import SOON, business
from test_ledger import migrated

BOOKINGD = os.path.join(BUILD, "src", "bookingd", "tgfleet-bookingd")
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
UID1, UID2, OTHER, UNKNOWN = 61001, 61002, 61003, 61009


class Booking:
    """A migrated database with two businesses, bookingd on its socket, and the users of their
    bots: UID1 is tenant 1's, UID2 tenant 2's, OTHER is tgfleet-botd (no tenant bot)."""

    def __init__(self, workdir):
        self.db = migrated(workdir)
        self.t1, self.s1, self.staff1 = business(self.db, bot_id=801)
        self.t2, self.s2, self.staff2 = business(self.db, bot_id=802, zone="America/New_York")
        passwd, group = os.path.join(workdir, "passwd"), os.path.join(workdir, "group")
        with open(passwd, "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
            for name, uid in (("tgfleet-bot-%d" % self.t1, UID1), ("tgfleet-bot-%d" % self.t2, UID2),
                              ("tgfleet-botd", OTHER), ("tgfleet-bot-0%d" % self.t1, UNKNOWN)):
                f.write("%s:x:%d:%d::/:/usr/sbin/nologin\n" % (name, uid, uid))
        with open(group, "w") as f:
            f.write("root:x:0:\n")
        creds = os.path.join(workdir, "bookingd-creds")
        os.makedirs(creds)
        nss = {"LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_PASSWD": passwd, "NSS_WRAPPER_GROUP": group,
               "NSS_WRAPPER_DISABLE_DEEPBIND": "1"}   # RTLD_DEEPBIND and ASan do not mix
        self.socket = BookingSocket()
        config = os.path.join(workdir, "ctl.conf")
        with open(config, "a") as f:
            f.write(self.socket.config)
        env = dict(nss, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        self.service = Service(workdir, "bookingd", BOOKINGD, ["--config=" + config,
                                                               "--credentials-dir=" + creds], env=env).start()
        self.day = psql("SELECT %s" % SOON, self.db)

    def call(self, uid, method, signature="", *args):
        """(0, the decoded JSON answer) or (exit status, busctl's error text)."""
        status, data = self.socket.call(method, signature, *args, user=str(uid))
        return (0, json.loads(data[0])) if status == 0 else (status, data)

    def ok(self, uid, method, signature="", *args):
        status, answer = self.call(uid, method, signature, *args)
        assert status == 0, (method, answer)
        return answer

    def stop(self):
        self.service.stop()
        self.socket.remove()


def test_a_tenant_bot_sees_and_changes_its_own_business_only(workdir):
    b = Booking(workdir)
    try:
        one = b.ok(UID1, "Business")
        assert one["name"] == "Salon 801" and one["time_zone"] == "Europe/Berlin", one
        assert [s["id"] for s in one["services"]] == [b.s1] and [s["name"] for s in one["staff"]] == ["Anna", "Olga"]
        assert one["hours"][0] == {"weekday": 1, "from": "09:00", "to": "13:00"}, one["hours"]
        assert b.ok(UID2, "Business")["name"] == "Salon 802"

        assert b.ok(UID1, "Customer", "xss", 5001, "Ann", "en") == {"phone": None, "lang": "en", "role": None}
        days = b.ok(UID1, "Days", "xxss", b.s1, 0, b.day, b.day)
        assert days == [{"day": b.day, "free": 7}], days   # a visit of an hour, from 09:00 to 12:00
        slots = b.ok(UID1, "Slots", "xxs", b.s1, 0, b.day)
        assert [s["local"] for s in slots][:2] == ["09:00", "09:30"] and slots[0]["staff"] == b.staff1[0], slots
        booked = b.ok(UID1, "Book", "xxxx", 5001, b.s1, 0, slots[0]["starts"])
        assert booked["outcome"] == "booked" and booked["booking"]["status"] == "confirmed", booked
        assert booked["booking"]["local"] == b.day + " 09:00" and booked["booking"]["staff"] == "Anna", booked
        id = booked["booking"]["id"]

        # Tenant 2's process, with every id of tenant 1's it could have guessed.
        assert b.ok(UID2, "Slots", "xxs", b.s1, 0, b.day) == []
        assert b.ok(UID2, "Days", "xxss", b.s1, b.staff1[0], b.day, b.day) == [{"day": b.day, "free": 0}]
        assert b.ok(UID2, "Book", "xxxx", 5002, b.s1, 0, slots[1]["starts"])["outcome"] == "no_service"
        assert b.ok(UID2, "Bookings", "x", 5001) == []
        assert b.ok(UID2, "Booking", "xx", 5001, id) is None
        assert b.ok(UID2, "Cancel", "xxss", id, 5001, "customer", "") == {"outcome": "not_found", "booking": None, "notify": []}
        assert b.ok(UID2, "Cancel", "xxss", id, 42, "owner", "closed") == {"outcome": "not_found", "booking": None, "notify": []}
        assert b.ok(UID2, "Reschedule", "xxxx", id, 5001, 0, slots[2]["starts"]) == \
            {"outcome": "not_found", "booking": None, "notify": []}
        # Nor does the business's side: the owner (42 owns both) through tenant 2's bot, nor an
        # admin tenant 2's owner adds.
        assert b.ok(UID2, "Manage", "xx", 42, id) is None
        assert b.ok(UID2, "Act", "xxss", 42, id, "cancel", "closed") == {"outcome": "not_found", "booking": None,
                                                                         "notify": []}
        day = b.ok(UID2, "Day", "xs", 42, b.day)
        assert [s["id"] for s in day["staff"]] == b.staff2 and all(s["bookings"] == [] for s in day["staff"]), day
        assert [s["id"] for s in b.ok(UID2, "Team", "x", 42)["staff"]] == b.staff2
        assert b.ok(UID2, "SetAdmin", "xxi", 42, 7007, 1) == {"outcome": "added"}
        assert b.ok(UID1, "Day", "xs", 7007, b.day) is None and b.ok(UID1, "Team", "x", 7007) is None
        assert b.ok(UID1, "Manage", "xx", 7007, id) is None
        assert b.ok(UID1, "SetAdmin", "xxi", 7007, 7008, 1) == {"outcome": "not_allowed"}
        assert b.ok(UID1, "LinkStaff", "xxx", 7007, b.staff1[0], 7008) == {"outcome": "not_allowed"}
        assert psql("SELECT string_agg(tenant_id || ' ' || action, ',') FROM booking_audit", b.db) == "%d admin_add" % b.t2
        # Nor another customer of the same business.
        assert b.ok(UID1, "Booking", "xx", 5002, id) is None
        assert b.ok(UID1, "Cancel", "xxss", id, 5002, "customer", "") == {"outcome": "not_found", "booking": None, "notify": []}
        assert psql("SELECT status || ' ' || (lower(during) = to_timestamp(%d)) FROM bookings WHERE id = %d"
                    % (slots[0]["starts"], id), b.db) == "confirmed true"
        assert psql("SELECT count(*) FROM booking_customers WHERE tenant_id = %d" % b.t2, b.db) == "0"

        # Tenant 1's own customer moves it, sees it, cancels it.
        moved = b.ok(UID1, "Reschedule", "xxxx", id, 5001, 0, slots[2]["starts"])
        assert moved["outcome"] == "moved" and moved["booking"]["local"] == b.day + " 10:00", moved
        mine = b.ok(UID1, "Bookings", "x", 5001)
        assert [(m["id"], m["starts"], m["service"], m["changeable"]) for m in mine] == \
            [(id, slots[2]["starts"], "Cut", True)], mine
        cancelled = b.ok(UID1, "Cancel", "xxss", id, 5001, "customer", "")
        assert cancelled["outcome"] == "cancelled" and cancelled["booking"]["status"] == "cancelled_customer", cancelled
        assert b.ok(UID1, "Bookings", "x", 5001) == []
        assert psql("SELECT string_agg(actor, ',' ORDER BY id) FROM booking_history WHERE booking_id = %d" % id,
                    b.db) == "customer:5001,customer:5001,customer:5001"
    finally:
        b.stop()


def test_a_process_that_is_no_tenant_bot_is_refused(workdir):
    """Root, a tgfleet service's user, a name that only looks like a tenant's: AccessDenied (busctl
    says "Access denied"), logged with the uid, and nothing written."""
    b = Booking(workdir)
    try:
        for uid in (0, OTHER, UNKNOWN):
            for method, sig, args in (("Customer", "xss", (5001, "Ann", "en")), ("Business", "", ())):
                assert b.call(uid, method, sig, *args) == (1, "Call failed: Access denied"), (uid, method)
        assert psql("SELECT count(*) FROM booking_customers", b.db) == "0"
        assert "Refused Customer from uid 61003: not a tenant bot." in b.service.tail()
        assert b.ok(UID1, "Business")["name"] == "Salon 801"
    finally:
        b.stop()


def test_values_the_database_refuses_are_invalid_argument(workdir):
    b = Booking(workdir)
    try:
        for method, sig, args, says in (
                ("Days", "xxss", (b.s1, 0, "2026-13-01", "2026-12-01"), "date/time field value out of range"),
                ("Days", "xxss", (b.s1, 0, b.day, "2099-01-01"), "a calendar spans 1 to 63 days"),
                ("Slots", "xxs", (b.s1, 0, "tomorrow-ish"), "invalid input syntax for type date"),
                ("SetPhone", "xs", (5001, "call me"), "not a phone number"),
                ("Customer", "xss", (0, "Nobody", "en"), 'new row for relation "booking_customers" violates check constraint'),
                ("Cancel", "xxss", (1, 5001, "operator", ""), "cancelled as operator?")):
            status, err = b.call(UID1, method, sig, *args)
            assert status == 1 and err.startswith("Call failed: " + says), (method, err)
        assert psql("SELECT count(*) FROM booking_customers", b.db) == "0"
        assert b.ok(UID1, "SetPhone", "xs", 5001, "+491701234567") == {"phone": "+491701234567"}
        assert b.ok(UID1, "Customer", "xss", 5001, "Ann", "ru") == {"phone": "+491701234567", "lang": "ru", "role": None}
    finally:
        b.stop()


def test_the_fleet_shares_one_database_connection(workdir):
    """Two businesses' bots calling at once, 200 calls: bookingd's one connection is all the
    database sees of them."""
    b = Booking(workdir)
    try:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda i: b.call(UID1 if i % 2 else UID2, "Slots", "xxs",
                                                     b.s1 if i % 2 else b.s2, 0, b.day), range(200)))
        assert all(status == 0 and len(slots) == 7 for status, slots in answers), answers[:3]
        assert psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()", b.db) == "1"
    finally:
        b.stop()


if __name__ == "__main__":
    run_tests(globals())
