# SPDX-License-Identifier: MIT
"""A business's own bot (tgfleet-botd --tenant) as its customers use it, on real parts: the
sandbox as Telegram, webhookd, Redis, PostgreSQL, and tgfleet-bookingd serving the bot its
business's data on its socket. The bot runs as root here, which bookingd's NSS (nss_wrapper) names
tgfleet-bot-<tenant>, as systemd's dynamic user would be named; test_bookingd.py shows that
nothing else gets in. Customers talk to it in English and in Russian; what they see is asserted,
and the bookings behind it."""

import os
import time

from harness import BOTD, BUILD, BookingSocket, BotChat, Service, run_tests, wait_for
from shop import Shop
from test_bookingd import BOOKINGD, NSS_WRAPPER

USERNAME = "anna_salon_bot"
ANN, BORIS, CAROL = 5001, 5002, 5003
OWNER, ADMIN, STAFF = 42, 6001, 6002


class Salon(BotChat):
    """A salon in Berlin: Cut (60 min, 1 500 ₽) by Anna and Olga, Color (90 min) by Olga only,
    both of them working 09:00–13:00 every day; its bot, bookingd and the rest of the platform."""

    def __init__(self, workdir, rules=""):
        self.shop = Shop(workdir, botd=False, config_extra="[Bots]\nRequestBurst=100\n")   # a driver taps fast
        s = self.shop
        BotChat.__init__(self, s.sandbox, USERNAME)
        self.t = int(self.sql("SELECT id FROM tenant_add('Salon Anna & <Co>', 42, 777, '%s', 'Europe/Berlin', 'test')"
                              % USERNAME))
        self.sql("UPDATE booking_profiles SET about = 'Haircuts since 1999.', address = 'Hauptstr. 1, Berlin', "
                 "phone = '+49 30 1234567', horizon_days = 60 %s WHERE tenant_id = %d" % (rules, self.t))
        self.cut = self.insert("booking_services (tenant_id, name, duration_min, price_minor, position) "
                               "VALUES (%d, 'Cut', 60, 150000, 1)" % self.t)
        self.color = self.insert("booking_services (tenant_id, name, duration_min, price_minor, position) "
                                 "VALUES (%d, 'Color', 90, 420000, 2)" % self.t)
        self.anna = self.insert("booking_staff (tenant_id, name, position) VALUES (%d, 'Anna', 1)" % self.t)
        self.olga = self.insert("booking_staff (tenant_id, name, position) VALUES (%d, 'Olga', 2)" % self.t)
        for staff, services in ((self.anna, (self.cut,)), (self.olga, (self.cut, self.color))):
            for service in services:
                self.sql("INSERT INTO booking_staff_services VALUES (%d, %d, %d)" % (self.t, staff, service))
            self.sql("INSERT INTO booking_hours SELECT %d, %d, d, '[09:00,13:00)' FROM generate_series(1, 7) d"
                     % (self.t, staff))
        # The day customers book: in three days, Berlin's date.
        self.day = self.sql("SELECT ((now() AT TIME ZONE 'Europe/Berlin')::date + 3)::text")
        self.other_month = self.day[:7] != self.sql("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date::text")[:7]

        passwd, group = os.path.join(workdir, "passwd"), os.path.join(workdir, "group")
        with open(passwd, "w") as f:
            f.write("tgfleet-bot-%d:x:0:0::/:/bin/sh\n" % self.t)
        with open(group, "w") as f:
            f.write("root:x:0:\n")
        self.socket = BookingSocket()
        with open(s.config, "a") as f:
            f.write(self.socket.config)
        env = dict(LD_PRELOAD=NSS_WRAPPER, NSS_WRAPPER_PASSWD=passwd, NSS_WRAPPER_GROUP=group,
                   NSS_WRAPPER_DISABLE_DEEPBIND="1",
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        common = ["--config=" + s.config]
        self.bookingd = Service(workdir, "bookingd", BOOKINGD, common + ["--credentials-dir=" + s.webhookd.creds],
                                env=env).start()

        token = s.sandbox.bot(USERNAME)
        bot = "tenant-%d" % self.t
        status, answer = s.sandbox.api(token, "setWebhook", url="http://127.0.0.1:%d/tg/%s" % (s.webhookd.port, bot),
                                       secret_token=s.webhookd.secret(bot))
        assert status == 200, answer
        creds = os.path.join(workdir, "tenant-creds")
        os.makedirs(creds)
        with open(os.path.join(creds, "bot-token"), "w") as f:
            f.write(token)
        self.botd = Service(workdir, "tenant-bot", BOTD, common + ["--credentials-dir=" + creds, "--tenant=%d" % self.t,
                                                                  "--locale-dir=" + os.path.join(BUILD, "po")]).start()

    def stop(self):
        self.botd.stop()
        self.bookingd.stop()
        self.shop.stop()
        self.socket.remove()

    def sql(self, query):
        return self.shop.sql(query)

    def insert(self, what):
        return int(self.sql("INSERT INTO %s RETURNING id" % what).split()[0])

    def step(self, user, action, needle, language="en"):
        """Says (a text) or presses (a button's label) @action, then waits for @needle: the message."""
        n = self.mark(user)
        if action.startswith("say:"):
            self.say(user, action[4:], language)
        elif action.isdigit():   # a day: the sandbox takes a number for the button's position
            data = [b["callback_data"] for m in self.messages(user) if m.get("from") == "bot"
                    for b in self.buttons(m) if b["text"] == action][-1]
            status, answer = self.sandbox.call("POST", "/sandbox/bots/%s/users/%d/press" % (self.bot, user),
                                               {"data": data})
            assert status == 200, answer
        else:
            self.press(user, action)
        return self.wait(user, needle, after=n)

    def to_day(self, user, calendar_needle, day=None):
        """From a calendar on screen to the times of @day (default: self.day)."""
        day = day or self.day
        if day[:7] != self.sql("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date::text")[:7]:
            self.step(user, "▶", calendar_needle)
        return int(day[8:])

    def book(self, user, service="Cut", staff="Anna", time="10:00", language="en"):
        """From /start to the confirmation screen of @service with @staff at @time on self.day."""
        en = language == "en"
        self.step(user, "say:/start", "Welcome to" if en else "Добро пожаловать", language)
        self.step(user, "say:" + ("📅 Book" if en else "📅 Записаться"), "Choose a service" if en else "Выберите услугу",
                  language)
        self.step(user, service, "Choose a specialist" if en else "Выберите мастера")
        pick = "Choose a day" if en else "Выберите день"
        self.step(user, staff, pick)
        day = self.to_day(user, pick)
        self.step(user, str(day), "Choose a time" if en else "Выберите время")
        return self.step(user, time, "Please check your booking" if en else "Проверьте запись")

    def keys(self, message):
        return [b["text"] for row in message["reply_markup"]["keyboard"] for b in row]

    def labels(self, message):
        return [b["text"] for b in self.buttons(message)]

    def audit(self):
        return self.sql("SELECT string_agg(action || ':' || role || ':' || actor, ' ' ORDER BY id) FROM booking_audit "
                        "WHERE tenant_id = %d" % self.t)

    def past(self, customer, staff, days_ago=1, at="10:00"):
        """A booking of @customer's that started @days_ago days ago (as the bot could not take it)."""
        self.sql("INSERT INTO booking_customers (tenant_id, telegram_id, name) VALUES (%d, %d, 'User%d') "
                 "ON CONFLICT DO NOTHING" % (self.t, customer, customer))
        starts = "((now() AT TIME ZONE 'Europe/Berlin')::date - %d + time '%s') AT TIME ZONE 'Europe/Berlin'" % (days_ago, at)
        return self.insert("bookings (tenant_id, customer_id, service_id, staff_id, during, price_minor, status) "
                           "VALUES (%d, %d, %d, %d, tstzrange(%s, %s + interval '1 hour'), 150000, 'confirmed')"
                           % (self.t, customer, self.cut, staff, starts, starts))

    def bookings(self, user):
        return self.sql("SELECT string_agg(s.name || ' ' || st.name || ' ' || "
                        "to_char(lower(b.during) AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD HH24:MI') || ' ' || b.status, "
                        "', ' ORDER BY b.id) FROM bookings b JOIN booking_services s ON s.id = b.service_id "
                        "JOIN booking_staff st ON st.id = b.staff_id WHERE b.customer_id = %d" % user)


def test_a_customer_books_moves_and_cancels(workdir):
    s = Salon(workdir)
    try:
        welcome = s.step(ANN, "say:/start", "Welcome to")
        assert "Welcome to <b>Salon Anna &amp; &lt;Co&gt;</b>!" in welcome["html"], welcome["html"]
        keys = [b["text"] for row in welcome["reply_markup"]["keyboard"] for b in row]
        assert keys == ["📅 Book", "🗂 My bookings", "ℹ️ About"], keys
        services = s.step(ANN, "say:📅 Book", "Choose a service")
        assert "• Cut — 60 min, ₽1,500.00" in services["html"] and "• Color — 90 min, ₽4,200.00" in services["html"]
        staff = s.step(ANN, "Cut", "Choose a specialist")
        assert [b["text"] for b in s.buttons(staff)] == ["👥 Any specialist", "Anna", "Olga", "◀ Back"]
        calendar = s.step(ANN, "Anna", "Choose a day")
        assert "<b>Cut</b> · with Anna" in calendar["html"], calendar["html"]
        assert [b["text"] for b in s.buttons(calendar)][3:10] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        day = s.to_day(ANN, "Choose a day")
        times = s.step(ANN, str(day), "Choose a time")
        labels = [b["text"] for b in s.buttons(times)]
        assert labels[:5] == ["09:00", "09:30", "10:00", "10:30", "11:00"] and labels[-1] == "◀ Other day", labels
        assert "12:30" not in labels   # a visit of an hour ends by 13:00
        confirm = s.step(ANN, "10:00", "Please check your booking")
        assert "Cut — 60 min, ₽1,500.00" in confirm["html"] and ", 10:00" in confirm["html"], confirm["html"]
        booked = s.step(ANN, "✅ Confirm", "You are booked!")
        assert "<b>Cut</b>" in booked["html"] and "👤 Anna" in booked["html"], booked["html"]
        assert s.bookings(ANN) == "Cut Anna %s 10:00 confirmed" % s.day
        assert s.sql("SELECT name || ' ' || lang FROM booking_customers WHERE telegram_id = %d" % ANN) == "User5001 en"

        # Moved to Olga at 11:00: the new time taken and the old released, in one step.
        mine = s.step(ANN, "say:🗂 My bookings", "Your bookings")
        assert "1. <b>Cut</b>" in mine["html"] and [b["text"] for b in s.buttons(mine)] == \
            ["✖️ Cancel 1", "🔁 Move 1", "📅 Book another"], mine
        s.step(ANN, "🔁 Move 1", "Choose a specialist")
        s.step(ANN, "Olga", "Choose a day")
        s.step(ANN, str(s.to_day(ANN, "Choose a day")), "Choose a time")
        s.step(ANN, "11:00", "Move your booking to this time?")
        moved = s.step(ANN, "✅ Move here", "Your booking is moved.")
        assert "👤 Olga" in moved["html"] and ", 11:00" in moved["html"], moved["html"]
        assert s.bookings(ANN) == "Cut Olga %s 11:00 confirmed" % s.day

        s.step(ANN, "say:🗂 My bookings", "Your bookings")
        s.step(ANN, "✖️ Cancel 1", "Cancel this booking?")
        s.step(ANN, "✖️ Yes, cancel it", "Your booking is cancelled.")
        assert s.bookings(ANN) == "Cut Olga %s 11:00 cancelled_customer" % s.day
        assert s.step(ANN, "say:🗂 My bookings", "You have no upcoming bookings.")
        assert s.sql("SELECT count(*) FROM booking_history h JOIN bookings b ON b.id = h.booking_id "
                     "WHERE b.customer_id = %d AND h.actor = 'customer:%d'" % (ANN, ANN)) == "3"
    finally:
        s.stop()


def test_a_russian_customer_reads_about_and_books_the_only_specialist(workdir):
    s = Salon(workdir)
    try:
        welcome = s.step(BORIS, "say:/start", "Добро пожаловать", "ru")
        assert [b["text"] for row in welcome["reply_markup"]["keyboard"] for b in row] == \
            ["📅 Записаться", "🗂 Мои записи", "ℹ️ О нас"]
        about = s.step(BORIS, "say:ℹ️ О нас", "Haircuts since 1999.", "ru")
        for line in ("📍 Hauptstr. 1, Berlin", "📞 +49 30 1234567", "<b>Часы работы</b>", "Пн 09:00–13:00",
                     "• Cut — 60 мин, 1\u00a0500,00\u00a0₽"):
            assert line in about["html"], (line, about["html"])
        s.step(BORIS, "say:📅 Записаться", "Выберите услугу", "ru")
        # Only Olga does Color: no choice to make, straight to her calendar.
        calendar = s.step(BORIS, "Color", "Выберите день")
        assert "<b>Color</b> · мастер Olga" in calendar["html"], calendar["html"]
        s.step(BORIS, str(s.to_day(BORIS, "Выберите день")), "Выберите время")
        s.step(BORIS, "09:00", "Проверьте запись")
        booked = s.step(BORIS, "✅ Подтвердить", "Вы записаны!")
        assert "👤 Olga" in booked["html"] and ", 09:00" in booked["html"], booked["html"]
        assert s.bookings(BORIS) == "Color Olga %s 09:00 confirmed" % s.day
        assert s.sql("SELECT lang FROM booking_customers WHERE telegram_id = %d" % BORIS) == "ru"
    finally:
        s.stop()


def test_a_time_taken_meanwhile_and_forged_buttons(workdir):
    """The slot goes while the customer looks at the confirmation: they are told and shown the
    nearest free times, one of which books. Buttons with data nobody was shown (another
    customer's booking, another business's service, a day that is no date) change nothing."""
    s = Salon(workdir)
    try:
        s.book(ANN, staff="Anna", time="10:00")
        starts = "(date '%s' + time '10:00') AT TIME ZONE 'Europe/Berlin'" % s.day
        assert s.sql("SELECT outcome FROM booking_book(%d, %d, %d, %d, %s)" % (s.t, CAROL, s.cut, s.anna, starts)) == \
            "booked"
        taken = s.step(ANN, "✅ Confirm", "that time was just taken")
        labels = [b["text"] for b in s.buttons(taken)]
        assert len(labels) == 5 and labels[0].endswith(", 11:00") and labels[-1] == "🗓 Another day", labels
        s.step(ANN, labels[0], "Please check your booking")
        s.step(ANN, "✅ Confirm", "You are booked!")
        assert s.bookings(ANN) == "Cut Anna %s 11:00 confirmed" % s.day

        carol = int(s.sql("SELECT id FROM bookings WHERE customer_id = %d" % CAROL))
        other = int(s.sql("SELECT id FROM tenant_add('Elsewhere', 43, 778, 'elsewhere_bot', 'Europe/Berlin', 'test')"))
        foreign = s.insert("booking_services (tenant_id, name, duration_min, price_minor) VALUES (%d, 'X', 60, 1)" % other)
        for data in ("cy:%d" % carol, "cx:%d" % carol, "rs:%d" % carol, "ok:%d:0:0:1900000000" % foreign,
                     "sv:%d:0:0" % foreign, "dy:%d:0:0:2026-13-01" % s.cut, "tm:%d:0:0:%s:0930" % (s.cut, s.day[:7]),
                     "cl:%d:0:0:1999-01" % s.cut, "ok:%d:0:0:-5" % s.cut, "garbage"):
            answer = s.press_data(ANN, data)
            assert answer == "This button is no longer valid.", (data, answer)
        assert s.bookings(CAROL) == "Cut Anna %s 10:00 confirmed" % s.day
        assert s.bookings(ANN) == "Cut Anna %s 11:00 confirmed" % s.day
        assert s.press_data(ANN, "no") == "Nothing to book there: choose a day with a number."
    finally:
        s.stop()


def test_a_business_that_wants_the_phone_and_approves_requests(workdir):
    s = Salon(workdir, rules=", phone_required = true, approval = true")
    try:
        s.book(ANN, time="09:00")
        ask = s.step(ANN, "✅ Confirm", "asks for your phone number")
        assert ask["reply_markup"]["keyboard"][0][0] == {"text": "📱 Share my phone number", "request_contact": True}
        s.step(ANN, "say:call me maybe", "does not look like a phone number")
        n = s.mark(ANN)
        status, answer = s.sandbox.call("POST", "/sandbox/bots/%s/users/%d/contact" % (USERNAME, ANN),
                                        {"phone_number": "491701234567"})
        assert status == 200, answer
        sent = s.wait(ANN, "Request sent.", after=n)
        assert "⏳ Waiting for the business to confirm" in sent["html"], sent["html"]
        assert s.bookings(ANN) == "Cut Anna %s 09:00 requested" % s.day
        assert s.sql("SELECT phone FROM booking_customers WHERE telegram_id = %d" % ANN) == "491701234567"

        # Typed, with spaces and dashes; the phone asked once only.
        s.book(BORIS, staff="Olga", time="09:00", language="ru")
        s.step(BORIS, "✅ Подтвердить", "номер телефона", "ru")
        s.step(BORIS, "say:+49 170 765-43-21", "Запрос отправлен", "ru")
        assert s.sql("SELECT phone FROM booking_customers WHERE telegram_id = %d" % BORIS) == "+491707654321"
        s.book(BORIS, staff="Olga", time="10:30", language="ru")
        s.step(BORIS, "✅ Подтвердить", "Запрос отправлен", "ru")
        assert s.bookings(BORIS) == "Cut Olga %s 09:00 requested, Cut Olga %s 10:30 requested" % (s.day, s.day)
    finally:
        s.stop()


def test_full_days_are_marked_and_the_bot_waits_out_bookingd(workdir):
    """A day off is ✖ in the calendar and its press says so; with bookingd stopped the bot still
    greets by the business's name and says to try again, and it books again once it is back."""
    s = Salon(workdir)
    try:
        s.sql("INSERT INTO booking_blocks (tenant_id, during, reason, created_by) VALUES (%d, tstzrange("
              "(date '%s')::timestamp AT TIME ZONE 'Europe/Berlin', (date '%s' + 1)::timestamp AT TIME ZONE "
              "'Europe/Berlin'), 'holiday', 42)" % (s.t, s.day, s.day))
        s.step(ANN, "say:📅 Book", "Choose a service")
        s.step(ANN, "Cut", "Choose a specialist")
        calendar = s.step(ANN, "👥 Any specialist", "Choose a day")
        if s.other_month:
            calendar = s.step(ANN, "▶", "Choose a day")
        days = [b for b in s.buttons(calendar) if b["callback_data"].startswith("dy:")]
        assert s.day not in [b["callback_data"][-10:] for b in days], days
        assert "%s:0:0:%s" % (s.cut, s.day) not in str(calendar)

        s.bookingd.stop()
        s.shop.redis.cli("HSET", "tenant:%d" % s.t, "name", "Salon Anna")
        down = s.step(ANN, "say:/start", "Welcome to")
        assert "Booking is unavailable at the moment" in down["html"], down["html"]
        assert "try again" in s.step(ANN, "say:📅 Book", "unavailable")["html"]
        s.bookingd.start()
        s.step(ANN, "say:📅 Book", "Choose a service")
    finally:
        s.stop()


def test_the_owner_is_told_approves_and_cancels_with_a_reason(workdir):
    """A business that approves requests: its owner is told of each one at once, with ✅ Approve
    and ✖️ Decline, and the customer of the answer; the owner sees the day's schedule by staff
    member, opens a booking and cancels it with a reason, which the customer reads. Each action is
    audited; a customer reaches none of it, whatever they press."""
    s = Salon(workdir, rules=", approval = true")
    try:
        welcome = s.step(OWNER, "say:/start", "Welcome to")
        assert s.keys(welcome) == ["📅 Book", "🗂 My bookings", "ℹ️ About", "🗓 Schedule"], s.keys(welcome)
        assert "You are on the business's team" in welcome["html"]
        n = s.mark(OWNER)
        s.book(ANN, time="09:00")
        s.step(ANN, "✅ Confirm", "Request sent.")
        notice = s.wait(OWNER, "New request", after=n)
        assert "<b>Cut</b>" in notice["html"] and "👤 Anna" in notice["html"], notice["html"]
        assert '<a href="tg://user?id=%d">User%d</a>' % (ANN, ANN) in notice["html"], notice["html"]
        assert s.labels(notice) == ["✅ Approve", "✖️ Decline"]
        n = s.mark(ANN)
        s.step(OWNER, "✅ Approve", "Done. The customer is told.")
        told = s.wait(ANN, "Your booking is confirmed.", after=n)
        assert ", 09:00" in told["html"] and "Waiting" not in told["html"], told["html"]
        assert s.bookings(ANN) == "Cut Anna %s 09:00 confirmed" % s.day
        ann = int(s.sql("SELECT id FROM bookings WHERE customer_id = %d" % ANN))
        n = s.mark(OWNER)   # the notice's Approve, pressed again: nothing
        s.press_data(OWNER, "ap:%d" % ann)
        s.wait(OWNER, "That cannot be done with this booking any more.", after=n)

        s.book(BORIS, staff="Olga", time="10:00")
        n = s.mark(OWNER)
        s.step(BORIS, "✅ Confirm", "Request sent.")
        s.wait(OWNER, "New request", after=n)
        n = s.mark(BORIS)
        s.step(OWNER, "✖️ Decline", "Done. The customer is told.")
        s.wait(BORIS, "the business could not take your request", after=n)
        assert s.bookings(BORIS) == "Cut Olga %s 10:00 cancelled_business" % s.day

        home = s.step(OWNER, "say:🗓 Schedule", "the schedule")
        assert "(today)" in home["html"], home["html"]
        assert s.labels(home) == ["◀", "▶", "📅 Another date", "📨 Requests", "📊 Figures", "👥 Team"], s.labels(home)
        view = s.step(OWNER, "📅 Another date", "Choose a date to see its schedule")
        if s.other_month:
            s.step(OWNER, "▶", "Choose a date to see its schedule")
        view = s.step(OWNER, str(int(s.day[8:])), "the schedule")
        assert "<b>Anna</b>\n09:00–10:00 · Cut · User%d" % ANN in view["html"], view["html"]
        assert "<b>Olga</b>\nNo bookings." in view["html"], view["html"]   # Boris's was declined
        card = s.step(OWNER, "09:00 User%d · Anna" % ANN, "✅ Confirmed")
        assert s.labels(card) == ["✖️ Cancel the booking", "◀ The schedule"], s.labels(card)
        assert "<b>Cut</b> · ₽1,500.00\n" in card["html"] and ", 09:00–10:00\n👤 Anna\n🙋 " in card["html"], card["html"]
        s.step(OWNER, "✖️ Cancel the booking", "Type the reason")
        s.step(OWNER, "◀ Keep it", "✅ Confirmed")   # a text after that is no reason: nothing cancelled
        s.step(OWNER, "say:hello", "Choose what to do")
        assert s.bookings(ANN) == "Cut Anna %s 09:00 confirmed" % s.day
        s.step(OWNER, "✖️ Cancel the booking", "Type the reason")
        n = s.mark(ANN)
        s.step(OWNER, "say:Anna is ill, sorry", "Done. The customer is told.")
        told = s.wait(ANN, "The business has cancelled your booking.", after=n)
        assert "Reason: Anna is ill, sorry" in told["html"] and s.labels(told) == ["📅 Book again"], told
        assert s.bookings(ANN) == "Cut Anna %s 09:00 cancelled_business" % s.day
        assert s.audit() == "approve:owner:42 decline:owner:42 cancel:owner:42", s.audit()
        assert s.sql("SELECT string_agg(actor || ' ' || new_status, ', ' ORDER BY id) FROM booking_history "
                     "WHERE booking_id = %d" % ann) == \
            "customer:%d requested, owner:42 confirmed, owner:42 cancelled_business" % ANN

        # A customer: no schedule, no team, and no press of the business's changes anything.
        s.step(CAROL, "say:/start", "Welcome to")
        assert "for the business's team" in s.step(CAROL, "say:/admin", "team")["html"]
        carol = s.past(CAROL, s.anna)
        for data, said in (("ad", "for the business's team"), ("sd:%s" % s.day, "for the business's team"),
                           ("rq", "for the business's team"), ("sm:%s" % s.day[:7], None),
                           ("bc:%d" % carol, "no longer valid"), ("ap:%d" % ann, "no longer valid"),
                           ("by:%d" % carol, "no longer valid"), ("bd:%d" % carol, "no longer valid"),
                           ("bx:%d" % carol, "no longer valid"), ("tm", "owner and admins"),
                           ("ta", "owner and admins"), ("tr:%d" % CAROL, "owner and admins"),
                           ("tl:%d" % s.anna, "owner and admins"), ("tu:%d" % s.anna, "owner and admins"),
                           ("bc:x", "no longer valid"), ("sd:2026-02-30", "no longer valid")):
            answer = s.press_data(CAROL, data)
            assert said is None or said in answer, (data, answer)
        assert s.audit() == "approve:owner:42 decline:owner:42 cancel:owner:42", s.audit()
        assert s.bookings(CAROL).endswith(" confirmed")
        assert s.sql("SELECT count(*) FROM booking_admins") == "0"
    finally:
        s.stop()


def test_the_team_admins_and_staff_who_see_their_own(workdir):
    """The owner adds an admin by Telegram id; the admin links a staff member by sharing their
    contact; then each customer's booking is told to all three, and the staff member, a Russian
    speaker, sees only their own schedule: marks a visit that happened, corrects it, and cancels
    a booking of theirs. The owner removes the admin, who then sees nothing."""
    s = Salon(workdir)
    try:
        s.step(OWNER, "say:/start", "Welcome to")
        s.step(OWNER, "say:🗓 Schedule", "the schedule")
        team = s.step(OWNER, "👥 Team", "The team")
        assert "None yet." in team["html"] and "• Anna: not linked" in team["html"], team["html"]
        assert s.labels(team) == ["🔗 Link Anna", "🔗 Link Olga", "➕ Add an admin", "◀ The schedule"], s.labels(team)
        s.step(OWNER, "➕ Add an admin", "Send the new admin's Telegram id")
        s.step(OWNER, "say:my friend", "That is not a Telegram id")
        s.step(OWNER, "say:%d" % ADMIN, "Added as an admin")
        team = s.wait(OWNER, "• %d" % ADMIN)
        assert "✖️ Remove %d" % ADMIN in s.labels(team), s.labels(team)

        welcome = s.step(ADMIN, "say:/start", "You are on the business's team")
        assert s.keys(welcome)[-1] == "🗓 Schedule"
        s.step(ADMIN, "say:/admin", "the schedule")
        team = s.step(ADMIN, "👥 Team", "The team")
        assert s.labels(team) == ["🔗 Link Anna", "🔗 Link Olga", "◀ The schedule"], s.labels(team)   # the owner's only
        assert "Only the owner adds admins." in s.press_data(ADMIN, "ta")
        s.step(ADMIN, "🔗 Link Anna", "Send the Telegram id of Anna")
        n = s.mark(ADMIN)
        status, answer = s.sandbox.call("POST", "/sandbox/bots/%s/users/%d/contact" % (USERNAME, ADMIN),
                                        {"phone_number": "+491700000000", "user_id": STAFF})
        assert status == 200, answer
        s.wait(ADMIN, "Linked.", after=n)
        assert "• Anna: linked to %d" % STAFF in s.wait(ADMIN, "linked to", after=n)["html"]
        s.step(STAFF, "say:/start", "Добро пожаловать", "ru")
        # Olga's account cannot be Anna's too.
        s.step(ADMIN, "🔗 Link Olga", "Send the Telegram id of Olga")
        s.step(ADMIN, "say:%d" % STAFF, "linked to another staff member")

        marks = [s.mark(u) for u in (OWNER, ADMIN, STAFF)]
        s.book(ANN, staff="Anna", time="11:00")
        s.step(ANN, "✅ Confirm", "You are booked!")
        for user, mark in zip((OWNER, ADMIN), marks):
            notice = s.wait(user, "New booking", after=mark)
            assert ", 11:00" in notice["html"] and s.labels(notice) == ["🗂 Open"], notice
        notice = s.wait(STAFF, "Новая запись", after=marks[2])
        assert s.labels(notice) == ["🗂 Открыть"], notice
        olga = int(s.sql("SELECT booking_id FROM booking_book(%d, %d, %d, %d, (date '%s' + time '12:00') AT TIME ZONE "
                         "'Europe/Berlin') WHERE outcome = 'booked'" % (s.t, BORIS, s.cut, s.olga, s.day)))
        s.step(CAROL, "say:/start", "Welcome to")
        past = s.past(CAROL, s.anna)

        welcome = s.step(STAFF, "say:/start", "Добро пожаловать", "ru")
        assert s.keys(welcome) == ["📅 Записаться", "🗂 Мои записи", "ℹ️ О нас", "🗓 Расписание"], s.keys(welcome)
        today = s.step(STAFF, "say:🗓 Расписание", "расписание", "ru")
        assert "<b>Olga</b>" not in today["html"] and "👥" not in str(s.labels(today)), today
        yesterday = s.step(STAFF, "◀", "расписание")
        assert "<b>Anna</b>\n10:00–11:00 · Cut · User%d" % CAROL in yesterday["html"], yesterday["html"]
        card = s.step(STAFF, "10:00 User%d" % CAROL, "Подтверждена")
        assert s.labels(card) == ["✔️ Пришёл", "🚫 Не пришёл", "◀ Расписание"], s.labels(card)
        n = s.mark(CAROL)
        s.step(STAFF, "✔️ Пришёл", "Клиента попросили оценить визит")
        assert s.sql("SELECT status FROM bookings WHERE id = %d" % past) == "completed"
        ask = s.wait(CAROL, "Thank you for your visit!", after=n)
        assert s.labels(ask) == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"], s.labels(ask)
        for data in ("rt:%d:6" % past, "rt:%d:0" % past, "rt:%d:5x" % past, "rt:%d:5" % olga):
            assert "no longer valid" in s.press_data(CAROL, data), data
        s.step(CAROL, "4 ⭐", "Thank you for your rating: ⭐⭐⭐⭐")
        assert "rated this visit already" in s.press_data(CAROL, "rt:%d:1" % past)
        assert s.sql("SELECT rating FROM bookings WHERE id = %d" % past) == "4"
        card = s.step(STAFF, "◀ Расписание", "расписание")
        card = s.step(STAFF, "10:00 User%d" % CAROL, "Пришёл")
        assert "✔️ Пришёл, оценка 4 ⭐ из 5" in card["html"], card["html"]
        s.step(STAFF, "🚫 Не пришёл", "Отмечено")
        assert s.sql("SELECT status || ' ' || coalesce(rating, 0) FROM bookings WHERE id = %d" % past) == "no_show 0"
        assert "no longer valid" in s.press_data(CAROL, "rt:%d:5" % past)
        for data in ("bc:%d" % olga, "bx:%d" % olga, "by:%d" % olga, "bd:%d" % olga):   # Olga's, not theirs
            assert "больше не действует" in s.press_data(STAFF, data), data
        assert "владелец и администраторы" in s.press_data(STAFF, "tm")
        assert s.sql("SELECT status FROM bookings WHERE id = %d" % olga) == "confirmed"

        ann = int(s.sql("SELECT id FROM bookings WHERE customer_id = %d" % ANN))
        n = s.mark(ANN)
        s.press_data(STAFF, "by:%d" % ann)
        s.wait(STAFF, "Клиенту сообщено")
        s.wait(ANN, "The business has cancelled your booking.", after=n)
        assert s.bookings(ANN) == "Cut Anna %s 11:00 cancelled_business" % s.day

        s.step(OWNER, "say:🗓 Schedule", "the schedule")
        s.step(OWNER, "👥 Team", "The team")
        assert "They are no longer an admin." in s.press_answer(OWNER, "✖️ Remove User%d" % ADMIN)
        assert "for the business's team" in s.step(ADMIN, "say:🗓 Schedule", "team")["html"]
        assert s.audit() == ("admin_add:owner:42 staff_link:admin:%d complete:staff:%d no_show:staff:%d "
                             "cancel:staff:%d admin_remove:owner:42" % (ADMIN, STAFF, STAFF, STAFF)), s.audit()
    finally:
        s.stop()


def test_reminders_once_re_planned_and_never_for_a_cancelled_booking(workdir):
    """A booking has its 24 h and 2 h reminders in the database, planned again when it moves. With
    the clock moved to one's time the customer is reminded once, with 👍 I'll come (the business's
    card says so) and ✖️ Cancel; published again, or with botd and bookingd killed and restarted,
    it is not told twice. A booking cancelled after its reminder went out is not reminded of."""
    s = Salon(workdir)
    plan = ("SELECT string_agg(r.offset_min || ' ' || to_char(r.starts AT TIME ZONE 'Europe/Berlin', 'HH24:MI') || ' ' "
            "|| (r.due_at = r.starts - make_interval(mins => r.offset_min)), ', ' ORDER BY r.offset_min) "
            "FROM booking_reminders r JOIN bookings b ON b.id = r.booking_id WHERE b.customer_id = %d")
    try:
        s.book(ANN, time="10:00")
        s.step(ANN, "✅ Confirm", "You are booked!")
        assert s.sql(plan % ANN) == "120 10:00 true, 1440 10:00 true", s.sql(plan % ANN)
        ann = int(s.sql("SELECT id FROM bookings WHERE customer_id = %d" % ANN))
        assert s.sql("SELECT outcome FROM booking_reschedule(%d, %d, %d, NULL, (date '%s' + time '11:00') AT TIME ZONE "
                     "'Europe/Berlin')" % (s.t, ann, ANN, s.day)) == "moved"
        assert s.sql(plan % ANN) == "120 11:00 true, 1440 11:00 true", s.sql(plan % ANN)

        n = s.mark(ANN)
        s.sql("UPDATE booking_reminders SET due_at = now() WHERE booking_id = %d AND offset_min = 1440" % ann)
        reminder = s.wait(ANN, "A reminder: your visit is in 1 day.", after=n)
        assert ", 11:00" in reminder["html"] and "📍 Hauptstr. 1, Berlin" in reminder["html"], reminder["html"]
        assert s.labels(reminder) == ["👍 I'll come", "✖️ Cancel"], s.labels(reminder)
        s.sql("UPDATE booking_reminders SET published = false WHERE booking_id = %d AND offset_min = 1440" % ann)
        s.botd.kill()
        s.bookingd.kill()
        s.bookingd.start()
        s.botd.start()
        wait_for(lambda: s.sql("SELECT bool_and(published) FROM booking_reminders WHERE booking_id = %d AND "
                               "offset_min = 1440" % ann) == "t", what="the reminder published again")
        assert s.press_answer(ANN, "👍 I'll come") == "👍 Thank you! See you soon."
        assert s.sql("SELECT booking_manage_json(%d, 42, %d)->>'coming'" % (s.t, ann)) == "true"   # the owner's card
        time.sleep(1)
        assert sum("A reminder" in t for t in s.texts(ANN)) == 1, s.texts(ANN)

        # Cancelled after its reminder was published, before the bot told it: nothing told.
        s.step(BORIS, "say:/start", "Welcome to")
        boris = int(s.sql("SELECT booking_id FROM booking_book(%d, %d, %d, %d, (date '%s' + time '12:00') AT TIME ZONE "
                          "'Europe/Berlin')" % (s.t, BORIS, s.cut, s.olga, s.day)))
        s.botd.stop()
        s.sql("UPDATE booking_reminders SET due_at = now() WHERE booking_id = %d AND offset_min = 120" % boris)
        wait_for(lambda: s.sql("SELECT bool_and(published) FROM booking_reminders WHERE booking_id = %d AND "
                               "offset_min = 120" % boris) == "t", what="Boris's reminder published")
        assert s.sql("SELECT outcome FROM booking_cancel(%d, %d, %d, 'customer', '')" % (s.t, boris, BORIS)) == "cancelled"
        s.botd.start()
        n = s.mark(ANN)
        s.sql("UPDATE booking_reminders SET due_at = now() WHERE booking_id = %d AND offset_min = 120" % ann)
        s.wait(ANN, "A reminder: your visit is in 2 hours.", after=n)
        time.sleep(1)
        assert not any("A reminder" in t for t in s.texts(BORIS)), s.texts(BORIS)
        assert s.sql("SELECT count(*) FROM booking_reminders WHERE booking_id = %d" % boris) == "1"   # the 24 h one went
    finally:
        s.stop()


def test_a_month_in_figures(workdir):
    """The owner's 📊 Figures: the month's bookings and what became of them, the revenue of the
    visits that took place by service and by staff member, and the average rating, in English and
    Russian; a staff member and a customer see none of it."""
    s = Salon(workdir)
    try:
        s.sql("UPDATE booking_staff SET telegram_id = %d WHERE id = %d" % (STAFF, s.anna))
        done = [s.past(ANN, s.anna, at="09:00"), s.past(BORIS, s.olga, at="10:00")]
        s.sql("UPDATE bookings SET status = 'completed' WHERE id IN (%d, %d)" % tuple(done))
        s.sql("UPDATE bookings SET rating = 5 WHERE id = %d; UPDATE bookings SET rating = 4 WHERE id = %d" % tuple(done))
        s.sql("UPDATE bookings SET status = 'no_show' WHERE id = %d" % s.past(CAROL, s.anna, at="11:00"))
        s.sql("UPDATE bookings SET status = 'cancelled_customer' WHERE id = %d" % s.past(ANN, s.anna, at="12:00"))
        s.sql("UPDATE bookings SET status = 'cancelled_business' WHERE id = %d" % s.past(BORIS, s.olga, at="12:00"))
        month = s.sql("SELECT to_char((now() AT TIME ZONE 'Europe/Berlin')::date - 1, 'YYYY-MM')")
        name = s.sql("SELECT to_char((now() AT TIME ZONE 'Europe/Berlin')::date - 1, 'FMMonth YYYY')")

        s.step(OWNER, "say:/start", "Welcome to")
        s.step(OWNER, "say:🗓 Schedule", "the schedule")
        n = s.mark(OWNER)
        s.press_data(OWNER, "sx:" + month)
        figures = s.wait(OWNER, "📊", after=n)
        assert figures["html"] == (
            "📊 <b>%s</b>\nBookings: 5\n✔️ Came: 2 · 🚫 Did not come: 1\n"
            "✖️ Cancelled by customers: 1 · by the business: 1\n⏳ Still to come: 0\n💰 Revenue: ₽3,000.00\n"
            "⭐ Rating: 4.5 of 5 (2)\n\n<b>By service</b>\n• Cut: 2 visits, ₽3,000.00\n\n<b>By staff member</b>\n"
            "• Anna: 1 visit, ₽1,500.00\n• Olga: 1 visit, ₽1,500.00" % name), figures["html"]
        s.step(OWNER, "say:/start", "Добро пожаловать", "ru")
        n = s.mark(OWNER)
        s.sandbox.call("POST", "/sandbox/bots/%s/users/%d/press" % (USERNAME, OWNER), {"data": "sx:" + month})
        figures = s.wait(OWNER, "📊", after=n)
        for line in ("Записей: 5", "✔️ Пришли: 2 · 🚫 Не пришли: 1", "Выручка: 3\u00a0000,00\u00a0₽",
                     "⭐ Оценка: 4,5 из 5 (2)", "• Cut: 2 визита, 3\u00a0000,00\u00a0₽", "• Anna: 1 визит"):
            assert line in figures["html"], (line, figures["html"])
        for user in (STAFF, CAROL):
            s.step(user, "say:/start", "Welcome to")
            assert "owner and admins see its figures" in s.press_data(user, "sx:" + month)
        assert "no longer valid" in s.press_data(CAROL, "sx:1999-01")
    finally:
        s.stop()


if __name__ == "__main__":
    run_tests(globals())
