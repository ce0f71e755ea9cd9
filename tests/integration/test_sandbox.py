# SPDX-License-Identifier: MIT
"""tgfleet-sandbox as tgfleet's services will meet it: the Telegram Bot API delivering webhooks to
the real tgfleet-webhookd, Heleket and YooKassa sending notifications the intake accepts, the
error shapes and the flood control of reference/protocols.md."""

import base64
import hashlib
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import CTL, Redis, Sandbox, Webhookd, free_port, run_tests, wait_for


def heleket_request(sb, path, payload, key=Sandbox.HELEKET_KEY):
    """A request signed as Heleket's SDKs sign: md5(base64(body) . key), headers merchant and sign."""
    body = json.dumps(payload, separators=(",", ":"))
    sign = hashlib.md5(base64.b64encode(body.encode()) + key.encode()).hexdigest()
    return sb.call("POST", path, body, {"Content-Type": "application/json", "merchant": Sandbox.HELEKET_MERCHANT,
                                        "sign": sign})


def yookassa(sb, method, path, payload=None, key=None, auth=(Sandbox.YOOKASSA_SHOP, Sandbox.YOOKASSA_SECRET)):
    headers = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()}
    if key:
        headers["Idempotence-Key"] = key
    return sb.call(method, path, payload, headers)


def intake(workdir, heleket_key=Sandbox.HELEKET_KEY):
    redis = Redis(workdir)
    d = Webhookd(workdir, redis, heleket_key=heleket_key).start()
    return redis, d


def test_updates_reach_the_intake_in_order(workdir):
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        url = "http://127.0.0.1:%d/tg/shop_bot" % d.port
        status, r = sb.api(token, "setWebhook", url=url, secret_token=d.secret("shop_bot"),
                           allowed_updates=["message", "callback_query"])
        assert status == 200 and r == {"ok": True, "result": True, "description": "Webhook was set"}, r
        for text in ("/start", "one", "two"):
            assert sb.user_sends("shop_bot", 42, text)[0] == 200
        wait_for(lambda: redis.xlen("updates:shop_bot") == 3, what="3 updates delivered")
        texts = [json.loads(b)["message"]["text"] for b in redis.stream_field("updates:shop_bot", "body")]
        assert texts == ["/start", "one", "two"], texts
        first = json.loads(redis.stream_field("updates:shop_bot", "body")[0])
        assert first["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
        assert first["message"]["from"]["language_code"] == "ru"
        info = sb.api(token, "getWebhookInfo")[1]["result"]
        assert info["url"] == url and info["pending_update_count"] == 0 and info["allowed_updates"] == ["message", "callback_query"]
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_failed_delivery_is_retried_and_holds_the_chat(workdir):
    """While the intake answers 503 nothing of the chat is delivered out of order; once it is back
    the held updates arrive, in order, each once."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        sb.api(token, "setWebhook", url="http://127.0.0.1:%d/tg/shop_bot" % d.port, secret_token=d.secret("shop_bot"))
        redis.stop()
        for i in range(5):
            sb.user_sends("shop_bot", 7, "m%d" % i)
        wait_for(lambda: "Wrong response from the webhook: 503" in
                 str(sb.api(token, "getWebhookInfo")[1]["result"].get("last_error_message")), what="a 503 noticed")
        assert sb.api(token, "getWebhookInfo")[1]["result"]["pending_update_count"] == 5
        redis.start()
        wait_for(lambda: redis.xlen("updates:shop_bot") == 5, timeout=20, what="held updates delivered")
        texts = [json.loads(b)["message"]["text"] for b in redis.stream_field("updates:shop_bot", "body")]
        assert texts == ["m0", "m1", "m2", "m3", "m4"], texts
        # A wrong secret is a failure too: Telegram keeps retrying, the intake enqueues nothing.
        sb.api(token, "setWebhook", url="http://127.0.0.1:%d/tg/shop_bot" % d.port, secret_token="wrong")
        sb.user_sends("shop_bot", 7, "refused")
        wait_for(lambda: "401" in str(sb.api(token, "getWebhookInfo")[1]["result"].get("last_error_message")),
                 what="401 noticed")
        assert redis.xlen("updates:shop_bot") == 5
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_buttons_and_callback_queries(workdir):
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        sb.api(token, "setWebhook", url="http://127.0.0.1:%d/tg/shop_bot" % d.port, secret_token=d.secret("shop_bot"))
        sb.user_sends("shop_bot", 9, "/start")
        keyboard = {"inline_keyboard": [[{"text": "Buy 100", "callback_data": "buy:100"},
                                          {"text": "Pay", "url": "https://pay.example/abc"}]]}
        status, r = sb.api(token, "sendMessage", chat_id=9, text="Menu", reply_markup=keyboard)
        assert status == 200 and r["result"]["reply_markup"] == keyboard
        # Form-encoded parameters, with the markup as JSON text, work as well.
        c = sb.call("POST", "/bot%s/sendMessage" % token, "chat_id=9&text=Form&reply_markup=" +
                    json.dumps(keyboard), {"Content-Type": "application/x-www-form-urlencoded"})
        assert c[0] == 200, c
        status, pressed = sb.user_presses("shop_bot", 9, "Buy 100")
        assert status == 200 and "callback_query_id" in pressed
        assert sb.user_presses("shop_bot", 9, "2")[1] == {"url": "https://pay.example/abc"}
        wait_for(lambda: redis.xlen("updates:shop_bot") == 2, what="callback delivered")
        cq = json.loads(redis.stream_field("updates:shop_bot", "body")[1])["callback_query"]
        assert cq["data"] == "buy:100" and cq["from"]["id"] == 9 and cq["message"]["text"] == "Form"
        assert sb.api(token, "answerCallbackQuery", callback_query_id=cq["id"])[1] == {"ok": True, "result": True}
        again = sb.api(token, "answerCallbackQuery", callback_query_id=cq["id"])
        assert again[0] == 400 and "query is too old" in again[1]["description"]
        # Edits, and Telegram's "not modified" answer.
        mid = r["result"]["message_id"]
        assert sb.api(token, "editMessageText", chat_id=9, message_id=mid, text="Menu 2")[0] == 200
        same = sb.api(token, "editMessageText", chat_id=9, message_id=mid, text="Menu 2")
        assert same[0] == 400 and same[1]["description"].startswith("Bad Request: message is not modified")
        assert sb.api(token, "deleteMessage", chat_id=9, message_id=mid)[1]["result"] is True
        texts = [m["text"] for m in sb.messages("shop_bot", 9)]
        assert texts == ["/start", "Form"], texts
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_telegram_errors_and_flood_control(workdir):
    """Telegram's error answers, and flood control: per chat a burst of 3 then 429 with
    retry_after; per bot --bot-rate per second. Limits are checked against the time the requests
    really took, so a slow machine cannot make the test lie either way."""
    sb = Sandbox(workdir, extra_args=("--bot-rate=5",))
    try:
        token = sb.bot("shop_bot")
        assert sb.call("GET", "/bot123/getMe")[0] == 401
        assert sb.call("GET", "/bot%s/noSuchMethod" % token)[1] == {"ok": False, "error_code": 404, "description": "Not Found"}
        assert sb.api(token, "sendMessage", chat_id=1, text="hi")[1]["description"] == "Bad Request: chat not found"
        for user in range(1, 41):
            sb.user_sends("shop_bot", user, "/start")
        assert sb.api(token, "sendMessage", chat_id=1, text="")[1]["description"] == "Bad Request: message text is empty"
        assert sb.api(token, "sendMessage", chat_id=1, text="x" * 4097)[1]["description"] == "Bad Request: message is too long"

        # One chat: a burst of 3, then 429 with retry_after (1 message per second refills it).
        time.sleep(1.1)
        start = time.monotonic()
        codes = [sb.api(token, "sendMessage", chat_id=1, text="m")[0] for _ in range(4)]
        elapsed = time.monotonic() - start
        assert codes[:3] == [200, 200, 200], codes
        if elapsed < 0.9:
            assert codes[3] == 429, codes
        r = sb.api(token, "sendMessage", chat_id=1, text="m")[1]
        if not r["ok"]:
            assert r["error_code"] == 429 and r["parameters"]["retry_after"] >= 1
            assert r["description"] == "Too Many Requests: retry after %d" % r["parameters"]["retry_after"]

        # The bot as a whole, across chats: at most 5 at once plus 5 per second that passed.
        time.sleep(1.1)
        start = time.monotonic()
        codes = [sb.api(token, "sendMessage", chat_id=u, text="m")[0] for u in range(2, 22)]
        elapsed = time.monotonic() - start
        assert set(codes) <= {200, 429}, codes
        assert codes.count(200) <= 5 + int(5 * elapsed) + 1, (codes, elapsed)
        assert codes.count(200) >= 5, codes
        if elapsed < 2:
            assert codes.count(429) >= 20 - (5 + int(5 * elapsed) + 1), (codes, elapsed)
    finally:
        sb.stop()


def test_heleket_invoice_and_signed_webhooks(workdir):
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        callback = "http://127.0.0.1:%d/pay/heleket" % d.port
        status, r = heleket_request(sb, "/v1/payment", {"amount": "15.00", "currency": "USD", "order_id": "order-42",
                                                        "url_callback": callback, "lifetime": 3600,
                                                        "additional_data": "Заказ / 250 звёзд"})
        assert status == 200 and r["state"] == 0, r
        invoice = r["result"]
        assert invoice["payment_status"] == "check" and invoice["url"].endswith(invoice["uuid"])
        # order_id is the idempotency key: the same invoice again.
        assert heleket_request(sb, "/v1/payment", {"amount": "15.00", "currency": "USD", "order_id": "order-42"})[1][
            "result"]["uuid"] == invoice["uuid"]
        # Wrong signature, validation errors.
        bad = sb.call("POST", "/v1/payment", '{"amount":"1","currency":"USD","order_id":"x"}',
                      {"Content-Type": "application/json", "merchant": Sandbox.HELEKET_MERCHANT, "sign": "0" * 32})
        assert bad[0] == 401 and bad[1]["state"] == 1
        v = heleket_request(sb, "/v1/payment", {"currency": "USD", "order_id": "o2"})
        assert v[0] == 422 and v[1]["errors"] == {"amount": ["validation.required"]}
        assert heleket_request(sb, "/v1/payment", {"amount": "1", "currency": "USD", "order_id": "a b"})[0] == 422
        # Paid: the webhook carries a PHP-style sign that the intake verifies.
        assert sb.call("POST", "/sandbox/heleket/order-42/pay")[0] == 200
        wait_for(lambda: redis.xlen("payments") == 1, what="paid webhook accepted by the intake")
        body = redis.stream_field("payments", "body")[0]
        assert "\\/" in body and "Заказ" in body, body
        webhook = json.loads(body)
        assert webhook["status"] == "paid" and webhook["order_id"] == "order-42" and webhook["payment_amount"] == "15.00"
        info = heleket_request(sb, "/v1/payment/info", {"order_id": "order-42"})[1]["result"]
        assert info["payment_status"] == "paid" and info["is_final"] is True
        # Resend: the same (uuid, status) again, deduplicated by the intake.
        assert heleket_request(sb, "/v1/payment/resend", {"uuid": invoice["uuid"]})[1] == {"state": 0, "result": []}
        # Other outcomes on other invoices.
        for order, outcome, status_ in (("o-over", "pay-over", "paid_over"), ("o-short", "pay-short", "wrong_amount_waiting"),
                                        ("o-exp", "expire", "cancel"), ("o-fail", "fail", "fail")):
            heleket_request(sb, "/v1/payment", {"amount": "10.00", "currency": "USD", "order_id": order,
                                                "url_callback": callback})
            assert sb.call("POST", "/sandbox/heleket/%s/%s" % (order, outcome))[1]["status"] == status_
        wait_for(lambda: redis.xlen("payments") == 5, what="all outcomes accepted")
        got = sorted((json.loads(b)["order_id"], json.loads(b)["status"], json.loads(b)["payment_amount"])
                     for b in redis.stream_field("payments", "body"))
        assert got == [("o-exp", "cancel", None), ("o-fail", "fail", None), ("o-over", "paid_over", "11.00"),
                       ("o-short", "wrong_amount_waiting", "5.00"), ("order-42", "paid", "15.00")], got
        assert heleket_request(sb, "/v1/payment/resend", {"order_id": "o-exp"})[0] == 422
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_yookassa_payments_and_notifications(workdir):
    redis, d = intake(workdir)
    sb = Sandbox(workdir, yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % d.port)
    try:
        payload = {"amount": {"value": "299.00", "currency": "RUB"}, "capture": True,
                   "confirmation": {"type": "redirect", "return_url": "https://t.me/sales_bot"},
                   "description": "Подписка на 30 дней", "metadata": {"tenant": "t1"}}
        status, p = yookassa(sb, "POST", "/v3/payments", payload, key="key-1")
        assert status == 200 and p["status"] == "pending" and p["paid"] is False, p
        assert p["confirmation"]["confirmation_url"].endswith(p["id"])
        assert yookassa(sb, "POST", "/v3/payments", payload, key="key-1")[1]["id"] == p["id"]
        dup = yookassa(sb, "POST", "/v3/payments", dict(payload, description="other"), key="key-1")
        assert dup[0] == 400 and dup[1]["description"] == "Idempotence key duplicated"
        assert yookassa(sb, "POST", "/v3/payments", payload)[1]["parameter"] == "Idempotence-Key"
        assert yookassa(sb, "GET", "/v3/payments/" + p["id"], auth=("100500", "wrong"))[1]["code"] == "invalid_credentials"
        assert yookassa(sb, "GET", "/v3/payments/nope")[0] == 404
        assert sb.call("POST", "/sandbox/yookassa/%s/succeed" % p["id"])[1]["status"] == "succeeded"
        wait_for(lambda: redis.xlen("payments") == 1, what="notification accepted by the intake")
        assert redis.stream_field("payments", "event") == ["payment.succeeded"]
        got = yookassa(sb, "GET", "/v3/payments/" + p["id"])[1]
        assert got["status"] == "succeeded" and got["paid"] is True and got["metadata"] == {"tenant": "t1"}
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_tgfleetctl_sandbox_commands(workdir):
    sb = Sandbox(workdir)
    conf = os.path.join(workdir, "ctl.conf")
    with open(conf, "w") as f:
        f.write("[Sandbox]\nURL=http://127.0.0.1:%d\n" % sb.port)

    def ctl(*args, stdin=None):
        return subprocess.run([CTL, "--config=" + conf, "sandbox", *args], capture_output=True, text=True,
                              input=stdin, timeout=20)

    try:
        # The token alone, for $(…); the whole bot with --json.
        r = ctl("bot", "shop_bot")
        assert r.returncode == 0, r.stderr
        token = r.stdout.strip()
        assert r.stdout == token + "\n" and ":" in token, r.stdout
        r = ctl("bot", "shop_bot", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["token"] == token, r.stdout
        r = ctl("send", "shop_bot", "5", "/start")
        assert r.returncode == 0 and json.loads(r.stdout)["message_id"] == 1, r.stdout + r.stderr
        keyboard = {"inline_keyboard": [[{"text": "Buy 100", "callback_data": "buy:100"},
                                          {"text": "Pay", "url": "https://pay.example/x"}]]}
        sb.api(token, "sendMessage", chat_id=5, text="Menu", reply_markup=keyboard)
        r = ctl("messages", "shop_bot", "5")
        assert r.stdout.splitlines() == ["[you] /start", "[bot] Menu", "       [#1 Buy 100] [#2 Pay] → https://pay.example/x"], r.stdout
        assert [m["text"] for m in json.loads(ctl("messages", "shop_bot", "5", "--json").stdout)] == ["/start", "Menu"]
        r = ctl("press", "shop_bot", "5", "1")
        assert r.returncode == 0 and "callback_query_id" in json.loads(r.stdout)
        # The terminal chat: typed text is sent, #N presses a button.
        r = ctl("chat", "shop_bot", "5", stdin="hello there\n#2\n")
        assert r.returncode == 0, r.stderr
        assert "[bot] Menu" in r.stdout and "(opens https://pay.example/x " in r.stdout, r.stdout
        assert json.loads(ctl("messages", "shop_bot", "5", "--json").stdout)[-1]["text"] == "hello there"
        # Payment outcomes.
        heleket_request(sb, "/v1/payment", {"amount": "3.00", "currency": "USD", "order_id": "cli-1"})
        r = ctl("heleket", "pay-short", "cli-1")
        assert r.returncode == 0 and json.loads(r.stdout)["status"] == "wrong_amount_waiting", r.stdout + r.stderr
        # Errors: unknown bot or order (1), usage (2), no sandbox (1).
        r = ctl("send", "nobody_bot", "5", "hi")
        assert r.returncode == 1 and "no such bot" in r.stderr, r.stderr
        r = ctl("press", "shop_bot", "5", "No such label")
        assert r.returncode == 1 and "no such button" in r.stderr, r.stderr
        assert ctl("heleket", "pay", "no-such-order").returncode == 1
        assert ctl("send", "shop_bot", "zero", "hi").returncode == 2
        assert ctl("frobnicate").returncode == 2
    finally:
        sb.stop()
    with open(conf, "w") as f:
        f.write("[Sandbox]\nURL=http://127.0.0.1:%d\n" % free_port())
    r = ctl("messages", "shop_bot", "5")
    assert r.returncode == 1 and "Cannot reach the sandbox" in r.stderr


def test_malformed_requests_are_answered_in_each_apis_shape_and_never_crash_it(workdir):
    """Broken JSON, a multipart part header libmicrohttpd cannot read ("form-data;name=" without
    the space), a multipart file upload as grammY sends one and a body over the limit: each is
    answered in the error shape of the API called, and the sandbox keeps serving."""
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        json_headers = {"Content-Type": "application/json"}
        for body in (b"{", b'{"chat_id": 1,', b"\xff\xfe", b'{"a":1}{"b":2}'):
            status, r = sb.call("POST", "/bot%s/sendMessage" % token, body, json_headers)
            assert status == 400 and r["ok"] is False and r["error_code"] == 400 and r["description"], r
            status, r = sb.call("POST", "/v3/payments", body, json_headers)
            assert status == 400 and r["type"] == "error" and r["code"] == "invalid_request" and r["id"], r
            status, r = sb.call("POST", "/v1/payment", body, json_headers)
            assert status == 400 and r["state"] == 1 and r["message"], r
            status, r = sb.call("POST", "/sandbox/bots", body, json_headers)
            assert status == 400 and r["error"], r
        status, r = sb.call("POST", "/bot%s" % token, b"{}", json_headers)
        assert status == 404 and r == {"ok": False, "error_code": 404, "description": "Not Found"}, r
        boundary = "----grammy7MA4YWxkTrZu0gW"
        def multipart(parts):
            out = b""
            for header, value in parts:
                out += b"--" + boundary.encode() + b"\r\n" + header + b"\r\n\r\n" + value + b"\r\n"
            return out + b"--" + boundary.encode() + b"--\r\n"
        form = {"Content-Type": "multipart/form-data; boundary=" + boundary}
        broken = multipart([(b'Content-Disposition: form-data;name="chat_id"', b"1")])
        status, r = sb.call("POST", "/bot%s/sendMessage" % token, broken, form)
        assert status == 400 and r["ok"] is False, r
        upload = multipart([(b'Content-Disposition: form-data; name="chat_id"', b"1"),
                            (b'Content-Disposition: form-data; name="document"; filename="a.txt"\r\n'
                             b"Content-Type: text/plain", b"hello\x00world" * 100)])
        status, r = sb.call("POST", "/bot%s/sendDocument" % token, upload, form)
        assert r["ok"] is False and r["error_code"] == status and status in (400, 404), (status, r)
        status, r = sb.call("POST", "/bot%s/sendMessage" % token, b"x" * (5 * 1024 * 1024), json_headers)
        assert status == 413 and r["ok"] is False and r["error_code"] == 413, r
        # Still serving, and a good call still works.
        assert sb.user_sends("shop_bot", 42, "hi")[0] == 200
        status, r = sb.api(token, "sendMessage", chat_id=42, text="hello")
        assert status == 200 and r["ok"] is True, r
    finally:
        sb.stop()


def test_users_who_block_the_bot_allowed_updates_commands_and_getme(workdir):
    """As Telegram: a user who blocked the bot makes its messages fail with 403 and the bot gets a
    my_chat_member update, writing to the bot unblocks it, a deactivated user is 403 for good;
    allowed_updates drops the kinds not listed; a command with @username is one entity; getMe has
    the real fields."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        me = sb.api(token, "getMe")[1]["result"]
        assert set(me) >= {"id", "is_bot", "first_name", "username", "can_join_groups", "can_read_all_group_messages",
                           "supports_inline_queries", "can_connect_to_business", "has_main_web_app"}, me
        url = "http://127.0.0.1:%d/tg/shop_bot" % d.port
        assert sb.api(token, "setWebhook", url=url, secret_token=d.secret("shop_bot"))[0] == 200
        assert sb.user_sends("shop_bot", 42, "/start@shop_bot now")[0] == 200
        wait_for(lambda: redis.xlen("updates:shop_bot") == 1, what="the /start")
        first = json.loads(redis.stream_field("updates:shop_bot", "body")[0])
        assert first["message"]["entities"] == [{"offset": 0, "length": 15, "type": "bot_command"}], first
        assert sb.api(token, "sendMessage", chat_id=42, text="hello")[0] == 200

        assert sb.call("POST", "/sandbox/bots/shop_bot/users/42/block", {})[0] == 200
        status, r = sb.api(token, "sendMessage", chat_id=42, text="still there?")
        assert status == 403 and r == {"ok": False, "error_code": 403,
                                       "description": "Forbidden: bot was blocked by the user"}, r
        wait_for(lambda: redis.xlen("updates:shop_bot") == 2, what="my_chat_member")
        member = json.loads(redis.stream_field("updates:shop_bot", "body")[1])["my_chat_member"]
        assert member["old_chat_member"]["status"] == "member" and member["new_chat_member"]["status"] == "kicked"
        assert member["from"]["id"] == 42 and member["chat"]["id"] == 42
        assert sb.user_sends("shop_bot", 42, "/start")[0] == 200   # writing again unblocks
        wait_for(lambda: redis.xlen("updates:shop_bot") == 4, what="unblocked, then the message")
        bodies = [json.loads(b) for b in redis.stream_field("updates:shop_bot", "body")]
        assert bodies[2]["my_chat_member"]["new_chat_member"]["status"] == "member" and "message" in bodies[3]
        assert sb.api(token, "sendMessage", chat_id=42, text="welcome back")[0] == 200

        assert sb.user_sends("shop_bot", 43, "hi")[0] == 200
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/43/deactivate", {})[0] == 200
        status, r = sb.api(token, "sendMessage", chat_id=43, text="hello")
        assert status == 403 and r["description"] == "Forbidden: user is deactivated", r
        assert sb.user_sends("shop_bot", 43, "hi")[0] != 200
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/43/unblock", {})[0] != 200

        # Only what allowed_updates lists comes: a block is not a message.
        assert sb.api(token, "setWebhook", url=url, secret_token=d.secret("shop_bot"), allowed_updates=["message"])[0] == 200
        n = redis.xlen("updates:shop_bot")
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/44/block", {})[0] == 200
        assert sb.user_sends("shop_bot", 45, "only this")[0] == 200
        wait_for(lambda: redis.xlen("updates:shop_bot") == n + 1, what="the message")
        time.sleep(0.3)
        assert redis.xlen("updates:shop_bot") == n + 1
        assert "message" in json.loads(redis.stream_field("updates:shop_bot", "body")[-1])
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_reply_markup_is_checked_as_telegram_checks_it(workdir):
    """Keyboards Telegram accepts are taken (inline with one action per button, a reply keyboard
    of strings or buttons with one request, remove_keyboard, force_reply); what it refuses is 400
    and nothing is sent."""
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        assert sb.user_sends("shop_bot", 42, "hi")[0] == 200
        good = [
            {"inline_keyboard": [[{"text": "Buy", "callback_data": "b:1"}, {"text": "Pay", "url": "https://pay.example/x"}]]},
            {"inline_keyboard": []},
            {"keyboard": [["💰 Balance", {"text": "📞 Share", "request_contact": True}]], "resize_keyboard": True,
             "one_time_keyboard": True},
            {"remove_keyboard": True},
            {"force_reply": True},
        ]
        for i, markup in enumerate(good):   # one chat each: a chat's burst is 3
            assert sb.user_sends("shop_bot", 50 + i, "hi")[0] == 200
            status, r = sb.api(token, "sendMessage", chat_id=50 + i, text="ok", reply_markup=markup)
            assert status == 200 and r["ok"], (markup, r)
        bad = [
            ({"inline_keyboard": [[{"text": "Nothing"}]]}, "text buttons are unallowed"),
            ({"inline_keyboard": [[{"text": "Two", "callback_data": "x", "url": "https://a.b"}]]}, "exactly one"),
            ({"inline_keyboard": [[{"text": "Long", "callback_data": "x" * 65}]]}, "BUTTON_DATA_INVALID"),
            ({"inline_keyboard": [[{"text": "Empty", "callback_data": ""}]]}, "BUTTON_DATA_INVALID"),
            ({"inline_keyboard": [[{"text": "Link", "url": "javascript:alert(1)"}]]}, "is invalid"),
            ({"inline_keyboard": [[{"callback_data": "x"}]]}, "text"),
            ({"inline_keyboard": [{"text": "not a row", "callback_data": "x"}]}, "can't parse"),
            ({"keyboard": []}, "can't parse"),
            ({"keyboard": [[{"text": ""}]]}, "text"),
            ({"keyboard": [[{"text": "Both", "request_contact": True, "request_location": True}]]}, "only one"),
            ({"remove_keyboard": False}, "can't parse"),
            ({"inline_keyboard": [], "keyboard": [["a"]]}, "can't parse"),
            ({}, "can't parse"),
        ]
        before = len(sb.messages("shop_bot", 42))
        for markup, why in bad:
            status, r = sb.api(token, "sendMessage", chat_id=42, text="no", reply_markup=markup)
            assert status == 400 and r["ok"] is False and why in r["description"], (markup, r)
        assert len(sb.messages("shop_bot", 42)) == before
    finally:
        sb.stop()


def test_webhook_urls_as_telegram_takes_them(workdir):
    """Without --allow-local-http the sandbox takes webhooks as Telegram does: HTTPS only, on port
    443, 80, 88 or 8443; with it (as the other tests run it), http:// to this machine too."""
    sb = Sandbox(workdir, local_http=False)
    try:
        token = sb.bot("shop_bot")
        for url in ("https://bots.example.org/tg/x", "https://bots.example.org:8443/tg/x",
                    "https://[2001:db8::1]:88/tg", "https://bots.example.org:80/"):
            status, r = sb.api(token, "setWebhook", url=url)
            assert status == 200 and r["ok"], (url, r)
        for url, why in (("http://127.0.0.1:8443/tg/x", "HTTPS URL must be provided"),
                         ("http://bots.example.org/tg/x", "HTTPS URL must be provided"),
                         ("https://bots.example.org:8080/tg/x", "ports 80, 88, 443 or 8443"),
                         ("https://bots.example.org:84x3/tg/x", "Wrong port number"),
                         ("https:///tg/x", "Wrong HTTP URL")):
            status, r = sb.api(token, "setWebhook", url=url)
            assert status == 400 and why in r["description"], (url, r)
        assert sb.api(token, "getWebhookInfo")[1]["result"]["url"] == "https://bots.example.org:80/"
        assert sb.api(token, "deleteWebhook")[0] == 200
    finally:
        sb.stop()


def test_parse_mode_as_telegram_parses_it(workdir):
    """HTML and MarkdownV2 are parsed as Telegram parses them: the message keeps the plain text and
    its entities in UTF-16 units (the control API also shows it written back as HTML); markup
    Telegram cannot parse is 400 "can't parse entities" and nothing is sent; the 4096 limit counts
    the text after parsing, in UTF-16 units; an edit to the same text and entities is no change."""
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        for u in range(60, 66):
            assert sb.user_sends("shop_bot", u, "hi")[0] == 200
        status, r = sb.api(token, "sendMessage", chat_id=60, parse_mode="HTML",
                           text="😀 <b>Nails &amp; Co</b> <code>st-1</code> <a href=\"https://example.com\">site</a>")
        assert status == 200, r
        m = r["result"]
        assert m["text"] == "😀 Nails & Co st-1 site", m
        assert m["entities"] == [{"offset": 3, "length": 10, "type": "bold"}, {"offset": 14, "length": 4, "type": "code"},
                                 {"offset": 19, "length": 4, "type": "text_link", "url": "https://example.com"}], m
        shown = sb.messages("shop_bot", 60)[-1]
        assert shown["text"] == m["text"] and shown["entities"] == m["entities"], shown
        assert shown["html"] == "😀 <b>Nails &amp; Co</b> <code>st-1</code> <a href=\"https://example.com\">site</a>"
        status, r = sb.api(token, "sendMessage", chat_id=61, parse_mode="MarkdownV2", text="*Price:* 1\\.50 \\(USD\\)")
        assert status == 200 and r["result"]["text"] == "Price: 1.50 (USD)", r
        before = len(sb.messages("shop_bot", 62))
        for mode, text, why in (
                ("HTML", "1 < 2", "Unsupported start tag \"\" at byte offset 2"),
                ("HTML", "<p>hi</p>", "Unsupported start tag \"p\" at byte offset 0"),
                ("HTML", "<b>unclosed", "Can't find end tag corresponding to start tag \"b\""),
                ("HTML", "<b>x</i>", "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""),
                ("MarkdownV2", "Price: 1.50", "Character '.' is reserved and must be escaped with the preceding '\\'"),
                ("MarkdownV2", "*bold", "Can't find end of Bold entity at byte offset 0")):
            status, r = sb.api(token, "sendMessage", chat_id=62, parse_mode=mode, text=text)
            assert status == 400 and r["description"] == "Bad Request: can't parse entities: " + why, (text, r)
        status, r = sb.api(token, "sendMessage", chat_id=62, parse_mode="BBCode", text="x")
        assert status == 400 and r["description"] == "Bad Request: unsupported parse_mode", r
        status, r = sb.api(token, "sendMessage", chat_id=62, parse_mode="HTML", text="<b> </b>")
        assert status == 400 and r["description"] == "Bad Request: message text is empty", r
        assert len(sb.messages("shop_bot", 62)) == before
        # 4096 characters in tags are not too long; 2,049 emoji (4,098 UTF-16 units) are.
        status, r = sb.api(token, "sendMessage", chat_id=63, parse_mode="HTML", text="<b>" + "a" * 4096 + "</b>")
        assert status == 200, r
        status, r = sb.api(token, "sendMessage", chat_id=63, text="😀" * 2049)
        assert status == 400 and r["description"] == "Bad Request: message is too long", r
        # Editing to the same text with the same entities is no change; other markup is.
        mid = m["message_id"]
        same = sb.api(token, "editMessageText", chat_id=60, message_id=mid, parse_mode="HTML",
                      text="😀 <b>Nails &amp; Co</b> <code>st-1</code> <a href=\"https://example.com\">site</a>")
        assert same[0] == 400 and "message is not modified" in same[1]["description"], same
        status, r = sb.api(token, "editMessageText", chat_id=60, message_id=mid, parse_mode="HTML",
                           text="😀 <i>Nails &amp; Co</i> st-1 site")
        assert status == 200 and r["result"]["entities"] == [{"offset": 3, "length": 10, "type": "italic"}], r
        status, r = sb.api(token, "editMessageText", chat_id=60, message_id=mid, parse_mode="HTML", text="<b>x")
        assert status == 400 and "can't parse entities" in r["description"], r
        assert sb.messages("shop_bot", 60)[-1]["html"] == "😀 <i>Nails &amp; Co</i> st-1 site"
    finally:
        sb.stop()


def test_heleket_underpayments_expiry_and_validation_as_heleket_does_them(workdir):
    """An underpaid invoice stays open (wrong_amount_waiting, not final) while it allows more
    payments, is paid in full by a top-up or ends wrong_amount at expiry; with
    is_payment_multiple false the first short payment is final. A final invoice takes no payment.
    Every failed field is listed at once; the invoice has Heleket's fields."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        callback = "http://127.0.0.1:%d/pay/heleket" % d.port
        for order, extra in (("top-up", {}), ("short-end", {}), ("single", {"is_payment_multiple": False})):
            r = heleket_request(sb, "/v1/payment", dict({"amount": "10.00", "currency": "USD", "order_id": order,
                                                         "url_callback": callback, "network": "bsc"}, **extra))
            assert r[0] == 200, r
        invoice = r[1]["result"]
        for field in ("uuid", "order_id", "amount", "payment_amount", "payer_amount", "payer_currency", "currency",
                      "merchant_amount", "commission", "network", "address", "address_qr_code", "from", "txid",
                      "payment_status", "url", "expired_at", "is_final", "additional_data", "created_at",
                      "updated_at", "is_payment_multiple"):
            assert field in invoice, (field, invoice)
        assert invoice["network"] == "bsc" and invoice["is_payment_multiple"] is False and invoice["txid"] is None
        assert invoice["created_at"].endswith("+03:00"), invoice

        def outcome(order, what):
            return sb.call("POST", "/sandbox/heleket/%s/%s" % (order, what))

        short = outcome("top-up", "pay-short")[1]
        assert short["status"] == "wrong_amount_waiting" and short["is_final"] is False, short
        assert short["payment_amount"] == "5.00" and short["txid"], short
        paid = outcome("top-up", "pay")[1]
        assert paid["status"] == "paid" and paid["is_final"] is True and paid["payment_amount"] == "10.00", paid
        assert outcome("short-end", "seen")[1]["status"] == "confirm_check"
        assert outcome("short-end", "pay-short")[1]["status"] == "wrong_amount_waiting"
        ended = outcome("short-end", "expire")[1]
        assert ended["status"] == "wrong_amount" and ended["is_final"] is True and ended["payment_amount"] == "5.00"
        single = outcome("single", "pay-short")[1]
        assert single["status"] == "wrong_amount" and single["is_final"] is True, single
        # Final invoices take no payment; only a paid one is refunded.
        assert outcome("single", "pay")[0] == 409 and outcome("single", "refund")[0] == 409
        assert outcome("top-up", "refund")[1]["status"] == "refund_paid"
        wait_for(lambda: redis.xlen("payments") == 7, what="every webhook accepted")
        # Webhooks go out at once, several at a time: they may arrive in another order.
        webhooks = sorted(((w["order_id"], w["status"], w["is_final"], w["network"]) for w in
                           (json.loads(b) for b in redis.stream_field("payments", "body"))))
        assert webhooks == [("short-end", "confirm_check", False, "bsc"), ("short-end", "wrong_amount", True, "bsc"),
                            ("short-end", "wrong_amount_waiting", False, "bsc"), ("single", "wrong_amount", True, "bsc"),
                            ("top-up", "paid", True, "bsc"), ("top-up", "refund_paid", True, "bsc"),
                            ("top-up", "wrong_amount_waiting", False, "bsc")], webhooks
        # Every bad field at once.
        status, r = heleket_request(sb, "/v1/payment", {"amount": "x", "order_id": "a b", "lifetime": 5,
                                                        "url_callback": "ftp://x", "is_payment_multiple": "yes"})
        assert status == 422 and r["state"] == 1 and r["errors"] == {
            "amount": ["validation.numeric"], "currency": ["validation.required"], "order_id": ["validation.alpha_dash"],
            "url_callback": ["validation.url"], "lifetime": ["validation.between.numeric"],
            "is_payment_multiple": ["validation.boolean"]}, r
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_polling_webhook_answers_and_more_methods(workdir):
    """getUpdates as Telegram serves it: 409 while a webhook is set; otherwise what waits, confirmed
    by offset, a long poll answered when an update comes, a second poll or a setWebhook ending the
    first with 409. A method in a webhook's answer is run. sendChatAction, the command lists,
    getChat, locations, venues and contacts; a user sharing their contact; edits keep inline
    keyboards only."""
    sb = Sandbox(workdir)
    server = None
    try:
        token = sb.bot("shop_bot")
        assert sb.user_sends("shop_bot", 70, "/start")[0] == 200
        assert sb.user_sends("shop_bot", 71, "hello")[0] == 200
        status, r = sb.api(token, "getUpdates")
        assert status == 200 and [u["message"]["text"] for u in r["result"]] == ["/start", "hello"], r
        first, second = (u["update_id"] for u in r["result"])
        assert [u["update_id"] for u in sb.api(token, "getUpdates", offset=second)[1]["result"]] == [second]
        assert sb.api(token, "getUpdates", offset=second + 1)[1]["result"] == []
        assert sb.api(token, "getWebhookInfo")[1]["result"]["pending_update_count"] == 0
        # A long poll waits for the next update; another poll ends the one that waits.
        polls = {}

        def poll(name, timeout, offset=second + 1):
            polls[name] = sb.api(token, "getUpdates", offset=offset, timeout=timeout)
        t = threading.Thread(target=poll, args=("long", 20))
        t.start()
        time.sleep(0.5)
        assert t.is_alive()
        assert sb.user_sends("shop_bot", 70, "again")[0] == 200
        t.join(10)
        assert polls["long"][0] == 200 and [u["message"]["text"] for u in polls["long"][1]["result"]] == ["again"]
        offset = polls["long"][1]["result"][0]["update_id"] + 1
        t = threading.Thread(target=poll, args=("first", 20, offset))
        t.start()
        time.sleep(0.5)
        polls["second"] = sb.api(token, "getUpdates", offset=offset, timeout=0)
        t.join(10)
        assert polls["first"][0] == 409 and "terminated by other getUpdates request" in polls["first"][1]["description"], polls
        start = time.time()
        assert sb.api(token, "getUpdates", offset=offset, timeout=1)[1]["result"] == []
        assert 0.8 < time.time() - start < 5
        # A webhook that answers with a method: Telegram runs it.
        class Answer(BaseHTTPRequestHandler):
            def do_POST(self):
                update = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body = json.dumps({"method": "sendMessage", "chat_id": update["message"]["chat"]["id"],
                                   "text": "<b>pong</b>", "parse_mode": "HTML"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        t = threading.Thread(target=poll, args=("ended", 20, offset))
        t.start()
        time.sleep(0.5)
        assert sb.api(token, "setWebhook", url="http://127.0.0.1:%d/tg" % server.server_port)[0] == 200
        t.join(10)
        assert polls["ended"][0] == 409 and "terminated by setWebhook request" in polls["ended"][1]["description"]
        status, r = sb.api(token, "getUpdates")
        assert status == 409 and r["description"].startswith("Conflict: can't use getUpdates method while webhook"), r
        assert sb.user_sends("shop_bot", 72, "ping")[0] == 200
        wait_for(lambda: [m["html"] for m in sb.messages("shop_bot", 72)] == ["ping", "<b>pong</b>"],
                 what="the webhook's answer run")
        # More methods.
        assert sb.api(token, "sendChatAction", chat_id=72, action="typing")[1] == {"ok": True, "result": True}
        r = sb.api(token, "sendChatAction", chat_id=72, action="dancing")
        assert r[0] == 400 and r[1]["description"] == "Bad Request: wrong parameter action in request", r
        commands = [{"command": "start", "description": "Menu"}, {"command": "book", "description": "Book a slot"}]
        assert sb.api(token, "setMyCommands", commands=commands)[0] == 200
        assert sb.api(token, "setMyCommands", commands=[{"command": "start", "description": "Меню"}],
                      language_code="ru")[0] == 200
        assert sb.api(token, "getMyCommands")[1]["result"] == commands
        assert sb.api(token, "getMyCommands", language_code="ru")[1]["result"] == [{"command": "start", "description": "Меню"}]
        for bad, why in (([{"command": "Start", "description": "x"}], "BOT_COMMAND_INVALID"),
                         ([{"command": "x" * 33, "description": "x"}], "command length must not exceed 32"),
                         ([{"command": "ok", "description": ""}], "command description must be non-empty"),
                         ([{"command": "c%d" % i, "description": "x"} for i in range(101)], "BOT_COMMANDS_TOO_MUCH")):
            r = sb.api(token, "setMyCommands", commands=bad)
            assert r[0] == 400 and r[1]["description"] == "Bad Request: " + why, r
        assert sb.api(token, "getMyCommands")[1]["result"] == commands
        assert sb.api(token, "deleteMyCommands")[0] == 200 and sb.api(token, "getMyCommands")[1]["result"] == []
        chat = sb.api(token, "getChat", chat_id=72)[1]["result"]
        assert chat["id"] == 72 and chat["type"] == "private", chat
        assert sb.api(token, "getChat", chat_id=999)[1]["description"] == "Bad Request: chat not found"
        for u in (74, 75, 76):   # a chat's burst is 3: one chat each
            assert sb.user_sends("shop_bot", u, "hi")[0] == 200
        r = sb.api(token, "sendLocation", chat_id=74, latitude=55.75, longitude=37.62)
        assert r[0] == 200 and r[1]["result"]["location"] == {"latitude": 55.75, "longitude": 37.62}, r
        r = sb.api(token, "sendLocation", chat_id=74, latitude=95, longitude=0)
        assert r[0] == 400 and r[1]["description"] == "Bad Request: wrong latitude", r
        r = sb.api(token, "sendVenue", chat_id=75, latitude=55.75, longitude=37.62, title="Salon", address="Tverskaya 1")
        assert r[1]["result"]["venue"]["title"] == "Salon" and "text" not in r[1]["result"], r
        r = sb.api(token, "sendContact", chat_id=76, phone_number="+79990000000", first_name="Anna")
        assert r[1]["result"]["contact"]["phone_number"] == "+79990000000", r
        mid = r[1]["result"]["message_id"]
        r = sb.api(token, "editMessageText", chat_id=76, message_id=mid, text="x")
        assert r[1]["description"] == "Bad Request: there is no text in the message to edit", r
        # A user shares their contact (a request_contact button).
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/73/contact", {"phone_number": "+79991112233"})[0] == 200
        shared = [m for m in sb.messages("shop_bot", 73) if m["from"] == "user"][0]
        assert shared["from"] == "user" and shared["contact"] == {"phone_number": "+79991112233", "first_name": "User73",
                                                                  "user_id": 73}, shared
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/73/location", {"latitude": 1, "longitude": 2})[0] == 200
        # Edits keep inline keyboards only.
        r = sb.api(token, "sendMessage", chat_id=73, text="menu", reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]})
        mid = r[1]["result"]["message_id"]
        r = sb.api(token, "editMessageReplyMarkup", chat_id=73, message_id=mid, reply_markup={"keyboard": [["x"]]})
        assert r[0] == 400 and r[1]["description"] == "Bad Request: inline keyboard expected", r
    finally:
        if server:
            server.shutdown()
        sb.stop()


def test_groups_that_become_supergroups_and_max_connections(workdir):
    """A group upgraded to a supergroup refuses the bot's messages with migrate_to_chat_id, as
    Telegram does, and both chats tell the bot; setWebhook's max_connections is kept."""
    sb = Sandbox(workdir)
    try:
        token = sb.bot("shop_bot")
        assert sb.user_sends("shop_bot", -5, "hi group")[0] == 200
        assert sb.api(token, "sendMessage", chat_id=-5, text="hello")[0] == 200
        status, r = sb.call("POST", "/sandbox/bots/shop_bot/users/-5/migrate")
        assert status == 200 and r["migrate_to_chat_id"] == -1000000000005, r
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/-5/migrate")[0] == 409
        assert sb.call("POST", "/sandbox/bots/shop_bot/users/7/migrate")[0] == 400
        status, r = sb.api(token, "sendMessage", chat_id=-5, text="still there?")
        assert status == 400 and r["description"] == "Bad Request: group chat was upgraded to a supergroup chat", r
        assert r["parameters"] == {"migrate_to_chat_id": -1000000000005}, r
        status, r = sb.api(token, "sendMessage", chat_id=-1000000000005, text="moved")
        assert status == 200 and r["result"]["chat"]["type"] == "supergroup", r
        updates = sb.api(token, "getUpdates")[1]["result"]
        service = [u["message"] for u in updates if "migrate_to_chat_id" in u["message"] or
                   "migrate_from_chat_id" in u["message"]]
        assert [(m["chat"]["id"], m.get("migrate_to_chat_id"), m.get("migrate_from_chat_id")) for m in service] == [
            (-5, -1000000000005, None), (-1000000000005, None, -5)], service
        assert sb.api(token, "setWebhook", url="http://127.0.0.1:9/x", max_connections=7)[0] == 200
        assert sb.api(token, "getWebhookInfo")[1]["result"]["max_connections"] == 7
        assert sb.api(token, "setWebhook", url="http://127.0.0.1:9/x", max_connections=1000)[0] == 200
        assert sb.api(token, "getWebhookInfo")[1]["result"]["max_connections"] == 100
    finally:
        sb.stop()


def test_yookassa_two_stage_refunds_saved_methods_and_lists(workdir):
    """YooKassa as it behaves past the happy path: 415 for a body that is not JSON, return_url
    required for a redirect, embedded confirmations; capture: false waits for capture, then is
    captured (in part) or cancelled, or expires; income_amount, payment_method, refundable once
    paid; refunds up to what was paid, each notified; saved methods charged without the payer, and
    refused once withdrawn; the payment list and its filters."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir, yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % d.port)
    try:
        redirect = {"type": "redirect", "return_url": "https://t.me/sales_bot"}

        def pay(key, **fields):
            return yookassa(sb, "POST", "/v3/payments", dict({"amount": {"value": "799.00", "currency": "RUB"}},
                                                             **fields), key=key)
        status, r = sb.call("POST", "/v3/payments", "amount=1", {
            "Authorization": "Basic " + base64.b64encode(b"100500:test_sandbox_secret").decode(),
            "Idempotence-Key": "k0", "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 415 and r["type"] == "error", r
        status, r = pay("k1", confirmation={"type": "redirect"})
        assert status == 400 and r["parameter"] == "confirmation.return_url", r
        status, r = pay("k2", confirmation={"type": "embedded"})
        assert status == 200 and r["confirmation"]["type"] == "embedded" and r["confirmation"]["confirmation_token"], r
        for bad in ("799", "799.5", "799.500", "-1.00"):
            assert pay("k-" + bad, confirmation=redirect, amount={"value": bad, "currency": "RUB"})[0] == 400
        unknown = pay("k-cur", confirmation=redirect, amount={"value": "1.00", "currency": "XXX"})
        assert unknown[1]["parameter"] == "amount.currency", unknown
        # Two-stage: paid, waiting for capture; captured for less; refunded in part, then the rest.
        two = pay("k3", confirmation=redirect, capture=False)[1]
        held = sb.call("POST", "/sandbox/yookassa/%s/succeed" % two["id"])[1]
        assert held["status"] == "waiting_for_capture" and held["paid"] is True and "expires_at" in held, held
        assert sb.call("POST", "/sandbox/yookassa/%s/succeed" % two["id"])[0] == 409
        status, r = yookassa(sb, "POST", "/v3/payments/%s/capture" % two["id"],
                             {"amount": {"value": "900.00", "currency": "RUB"}}, key="k4")
        assert status == 400 and r["parameter"] == "amount", r
        status, done = yookassa(sb, "POST", "/v3/payments/%s/capture" % two["id"],
                                {"amount": {"value": "700.00", "currency": "RUB"}}, key="k5")
        assert status == 200 and done["status"] == "succeeded" and done["amount"]["value"] == "700.00", done
        assert done["income_amount"] == {"value": "675.50", "currency": "RUB"} and done["refundable"] is True, done
        assert done["payment_method"]["type"] == "bank_card" and done["payment_method"]["saved"] is False, done
        assert yookassa(sb, "POST", "/v3/payments/%s/cancel" % two["id"], {}, key="k6")[0] == 400
        status, refund = yookassa(sb, "POST", "/v3/refunds", {"payment_id": two["id"],
                                                               "amount": {"value": "200.00", "currency": "RUB"}}, key="r1")
        assert status == 200 and refund["status"] == "succeeded" and refund["payment_id"] == two["id"], refund
        assert yookassa(sb, "POST", "/v3/refunds", {"payment_id": two["id"], "amount": {"value": "200.00",
                                                                                       "currency": "RUB"}}, key="r1")[1]["id"] == refund["id"]
        over = yookassa(sb, "POST", "/v3/refunds", {"payment_id": two["id"], "amount": {"value": "600.00",
                                                                                       "currency": "RUB"}}, key="r2")
        assert over[0] == 400 and over[1]["parameter"] == "amount", over
        assert yookassa(sb, "POST", "/v3/refunds", {"payment_id": two["id"], "amount": {"value": "500.00",
                                                                                       "currency": "RUB"}}, key="r3")[0] == 200
        after = yookassa(sb, "GET", "/v3/payments/" + two["id"])[1]
        assert after["refunded_amount"]["value"] == "700.00" and after["refundable"] is False, after
        assert yookassa(sb, "GET", "/v3/refunds/" + refund["id"])[1]["amount"]["value"] == "200.00"
        # Cancelled by the shop while held; not captured in time.
        three = pay("k7", confirmation=redirect, capture=False)[1]
        sb.call("POST", "/sandbox/yookassa/%s/succeed" % three["id"])
        gone = yookassa(sb, "POST", "/v3/payments/%s/cancel" % three["id"], {}, key="k8")[1]
        assert gone["status"] == "canceled" and gone["cancellation_details"]["reason"] == "canceled_by_merchant", gone
        four = pay("k9", confirmation=redirect, capture=False)[1]
        sb.call("POST", "/sandbox/yookassa/%s/succeed" % four["id"])
        late = sb.call("POST", "/sandbox/yookassa/%s/expire" % four["id"])[1]
        assert late["status"] == "canceled" and late["cancellation_details"]["reason"] == "expired_on_capture", late
        # A saved method: the first payment saves it; the next are charged with nobody to confirm.
        first = pay("k10", confirmation=redirect, capture=True, save_payment_method=True)[1]
        paid = sb.call("POST", "/sandbox/yookassa/%s/succeed" % first["id"])[1]
        assert paid["status"] == "succeeded" and paid["payment_method"]["saved"] is True, paid
        method = paid["payment_method"]["id"]
        renewal = pay("k11", capture=True, payment_method_id=method)[1]
        assert renewal["status"] == "succeeded" and "confirmation" not in renewal, renewal
        assert pay("k12", capture=True, payment_method_id="no-such-method")[1]["parameter"] == "payment_method_id"
        assert sb.call("POST", "/sandbox/yookassa/%s/revoke" % first["id"])[0] == 200
        refused = pay("k13", capture=True, payment_method_id=method)[1]
        assert refused["status"] == "canceled" and refused["cancellation_details"]["reason"] == "permission_revoked"
        # The list, newest first, with its filters.
        listed = yookassa(sb, "GET", "/v3/payments?status=succeeded&limit=2")[1]
        assert listed["type"] == "list" and [p["status"] for p in listed["items"]] == ["succeeded", "succeeded"]
        assert listed["items"][0]["id"] == renewal["id"], listed
        assert yookassa(sb, "GET", "/v3/payments?created_at.lt=2000-01-01T00:00:00.000Z")[1]["items"] == []
        assert yookassa(sb, "GET", "/v3/payments?limit=0")[0] == 400
        # Every change was notified.
        events = ["payment.waiting_for_capture", "payment.succeeded", "refund.succeeded", "refund.succeeded",
                  "payment.waiting_for_capture", "payment.canceled", "payment.waiting_for_capture",
                  "payment.canceled", "payment.succeeded", "payment.succeeded", "payment.canceled"]
        wait_for(lambda: redis.xlen("payments") == len(events), what="every notification accepted")
        assert sorted(redis.stream_field("payments", "event")) == sorted(events)   # sent at once, several at a time
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_payment_pages(workdir):
    """The url of a Heleket invoice and the confirmation_url of a YooKassa payment open a page
    where a payer pays (in full, short, over), cancels or lets it expire; each press does what
    the payer's action does, webhook included; a finished payment offers nothing more."""
    import http.client
    import urllib.parse
    redis, d = intake(workdir)
    sb = Sandbox(workdir, yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % d.port)

    def page(url, outcome=None):
        u = urllib.parse.urlparse(url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        if outcome:
            c.request("POST", u.path, "outcome=" + outcome, {"Content-Type": "application/x-www-form-urlencoded"})
        else:
            c.request("GET", u.path)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r.status, r.getheader("Content-Type"), body
    try:
        callback = "http://127.0.0.1:%d/pay/heleket" % d.port
        invoice = heleket_request(sb, "/v1/payment", {"amount": "4.79", "currency": "USD", "order_id": "st-page",
                                                      "url_callback": callback})[1]["result"]
        status, kind, html = page(invoice["url"])
        assert status == 200 and kind.startswith("text/html"), (status, kind)
        assert "4.79" in html and "st-page" in html and 'value="pay-short"' in html, html
        status, _, html = page(invoice["url"], "pay-short")
        assert status == 200 and "wrong_amount_waiting" in html and "2.39" in html, html
        status, _, html = page(invoice["url"], "pay")
        assert "paid" in html and "<button" not in html, html
        assert "is over" in page(invoice["url"], "pay")[2]
        wait_for(lambda: sorted(redis.stream_field("payments", "status")) == ["paid", "wrong_amount_waiting"],
                 what="the page's payments sent as webhooks")
        payment = yookassa(sb, "POST", "/v3/payments", {"amount": {"value": "299.00", "currency": "RUB"},
                                                        "capture": True, "confirmation": {
                                                            "type": "redirect", "return_url": "https://t.me/sales_bot"}},
                           key="page-1")[1]
        url = payment["confirmation"]["confirmation_url"]
        assert url.startswith("http://127.0.0.1:%d/pay/yookassa/" % sb.port), url
        status, _, html = page(url)
        assert status == 200 and "299.00" in html and 'value="succeed"' in html and "https://t.me/sales_bot" in html
        assert "succeeded" in page(url, "succeed")[2]
        assert yookassa(sb, "GET", "/v3/payments/" + payment["id"])[1]["status"] == "succeeded"
        assert page("http://127.0.0.1:%d/pay/no-such-invoice" % sb.port)[0] == 404
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_heleket_refunds_and_services(workdir):
    """Refunds as Heleket takes them: signed with the payout key, for a paid invoice, every field
    checked; refund_process, then refund_paid or refund_fail, each a webhook. The services list."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir)
    try:
        callback = "http://127.0.0.1:%d/pay/heleket" % d.port
        for order in ("rf-1", "rf-2", "rf-3"):
            heleket_request(sb, "/v1/payment", {"amount": "10.00", "currency": "USD", "order_id": order,
                                                "url_callback": callback})
        for order in ("rf-1", "rf-2"):
            sb.call("POST", "/sandbox/heleket/%s/pay" % order)
        ask = {"order_id": "rf-1", "address": "TPayerAddress", "is_subtract": True}
        assert heleket_request(sb, "/v1/payment/refund", ask)[0] == 401          # the payment key
        payout = Sandbox.HELEKET_PAYOUT_KEY
        status, r = heleket_request(sb, "/v1/payment/refund", {"order_id": "rf-1"}, payout)
        assert status == 422 and sorted(r["errors"]) == ["address", "is_subtract"], r
        assert heleket_request(sb, "/v1/payment/refund", dict(ask, order_id="rf-3"), payout)[0] == 422   # unpaid
        assert heleket_request(sb, "/v1/payment/refund", ask, payout) == (200, {"state": 0, "result": []})
        refunding = heleket_request(sb, "/v1/payment/info", {"order_id": "rf-1"})[1]["result"]
        assert refunding["payment_status"] == "refund_process", refunding
        assert sb.call("POST", "/sandbox/heleket/rf-1/pay")[0] == 409
        assert sb.call("POST", "/sandbox/heleket/rf-1/refund")[1]["status"] == "refund_paid"
        assert heleket_request(sb, "/v1/payment/refund", dict(ask, order_id="rf-2"), payout)[0] == 200
        assert sb.call("POST", "/sandbox/heleket/rf-2/refund-fail")[1]["status"] == "refund_fail"
        wait_for(lambda: sorted(redis.stream_field("payments", "status")) == sorted([
            "paid", "paid", "refund_process", "refund_paid", "refund_process", "refund_fail"]), what="every webhook")
        services = heleket_request(sb, "/v1/payment/services", {})[1]["result"]
        assert {"network": "tron", "currency": "USDT"}.items() <= services[0].items() and "limit" in services[0]
    finally:
        sb.stop()
        d.stop()
        redis.stop()


def test_terminal_chat_shows_what_a_telegram_client_shows(workdir):
    """tgfleetctl sandbox chat as a newcomer uses it: the bot's formatting, the reply keyboard (a
    press sends its label), edited messages shown again, notices and alerts answering presses,
    digits typed as text, #N and /press N to press, a stale number answered plainly, a message the
    bot deletes said to be gone; --user= and --language= on chat and send."""
    sb = Sandbox(workdir)
    conf = os.path.join(workdir, "ctl.conf")
    with open(conf, "w") as f:
        f.write("[Sandbox]\nURL=http://127.0.0.1:%d\n" % sb.port)
    try:
        token = sb.bot("shop_bot")
        r = subprocess.run([CTL, "--config=" + conf, "sandbox", "send", "shop_bot", "/start", "--user=8",
                            "--language=en"], capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        sb.api(token, "sendMessage", chat_id=8, parse_mode="HTML", text="Welcome to <b>Stars</b>, see <a href=\"https://t.me/x\">help</a>",
               reply_markup={"keyboard": [["🛒 Buy Stars", "💰 Balance"]], "resize_keyboard": True})
        menu = sb.api(token, "sendMessage", chat_id=8, text="Choose a package",
                      reply_markup={"inline_keyboard": [[{"text": "100", "callback_data": "p:100"}]]})[1]["result"]
        answers = []

        def bot():
            # The bot: answers the press with an alert and edits its message; thanks for a typed amount.
            deadline = time.time() + 15
            while time.time() < deadline and len(answers) < 3:
                for u in sb.api(token, "getUpdates", offset=answers[-1] + 1 if answers else 0, timeout=1)[1]["result"]:
                    answers.append(u["update_id"])
                    if "callback_query" in u:
                        sb.api(token, "answerCallbackQuery", callback_query_id=u["callback_query"]["id"],
                               text="Reserved for 10 minutes", show_alert=True)
                        sb.api(token, "editMessageText", chat_id=8, message_id=menu["message_id"],
                               text="Order st-42: 100 Stars", reply_markup={"inline_keyboard": [[
                                   {"text": "Pay", "url": "http://127.0.0.1:%d/pay/x" % sb.port}]]})
                    elif u.get("message", {}).get("text") == "250":
                        sb.api(token, "sendMessage", chat_id=8, text="250 Stars it is")
                    elif u.get("message", {}).get("text") == "123:secret":
                        sb.api(token, "deleteMessage", chat_id=8, message_id=u["message"]["message_id"])
        sb.api(token, "getUpdates", offset=10**12)   # the old updates are read
        t = threading.Thread(target=bot)
        t.start()
        r = subprocess.run([CTL, "--config=" + conf, "sandbox", "chat", "shop_bot", "--user=8", "--language=en"],
                           input="#3\n250\n123:secret\n/press 9\n#2\n#3\n", capture_output=True, text=True, timeout=30)
        t.join(20)
        out = r.stdout
        assert r.returncode == 0, r.stderr
        assert "#N or /press N presses button N" in out.splitlines()[0], out
        assert "[bot] Welcome to Stars, see help (https://t.me/x)" in out, out
        assert "⌨ [#1 🛒 Buy Stars] [#2 💰 Balance]" in out and "[#3 100]" in out, out
        assert "(alert: Reserved for 10 minutes)" in out, out
        # The edit is shown again, its new button with a new number; the old number is stale.
        assert "(edited) [bot] Order st-42: 100 Stars\n       [#4 Pay] → http://127.0.0.1:%d/pay/x" % sb.port in out, out
        assert "[you] 250" in out and "[bot] 250 Stars it is" in out, out
        # A message the bot deletes (one holding a token) is said to be gone, not shown again.
        assert "(the bot deleted your message above)" in out and out.count("123:secret") == 1, out
        assert "(no button #9)" in out, out
        assert "[you] 💰 Balance" in out, out
        assert "(#3 was a button of an earlier message" in out, out
        texts = [m["text"] for m in sb.messages("shop_bot", 8) if m["from"] == "user"]
        assert texts == ["/start", "250", "💰 Balance"], texts   # the deleted one is gone
    finally:
        sb.stop()


def test_heleket_invoices_expire_by_themselves(workdir):
    """At the end of its lifetime an unpaid invoice becomes cancel and an underpaid one
    wrong_amount, each with its webhook, with no one asking (--min-lifetime=1 shortens the wait)."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir, extra_args=("--min-lifetime=1",))
    try:
        callback = "http://127.0.0.1:%d/pay/heleket" % d.port
        for order in ("ex-unpaid", "ex-short"):
            assert heleket_request(sb, "/v1/payment", {"amount": "10.00", "currency": "USD", "order_id": order,
                                                       "url_callback": callback, "lifetime": 3})[0] == 200
        sb.call("POST", "/sandbox/heleket/ex-short/pay-short")
        wait_for(lambda: sorted(redis.stream_field("payments", "status")) == ["cancel", "wrong_amount",
                                                                                "wrong_amount_waiting"],
                 timeout=15, what="both invoices expired by themselves")
        info = heleket_request(sb, "/v1/payment/info", {"order_id": "ex-short"})[1]["result"]
        assert info["payment_status"] == "wrong_amount" and info["is_final"] is True, info
    finally:
        sb.stop()
        d.stop()
        redis.stop()



def test_yookassa_control_outcomes(workdir):
    """The payer's side of YooKassa from the control API and tgfleetctl: a cancellation with the
    bank's reason, a refund of a paid payment, a change without its notification, the faults."""
    redis, d = intake(workdir)
    sb = Sandbox(workdir, yookassa_notify="http://127.0.0.1:%d/pay/yookassa" % d.port)
    conf = os.path.join(workdir, "ctl.conf")
    with open(conf, "w") as f:
        f.write("[Sandbox]\nURL=http://127.0.0.1:%d\n" % sb.port)
    try:
        def pay(key):
            return yookassa(sb, "POST", "/v3/payments", {"amount": {"value": "299.00", "currency": "RUB"}, "capture": True,
                                                          "confirmation": {"type": "redirect", "return_url": "https://t.me/x"}},
                            key=key)[1]["id"]

        one, two, three = pay("c1"), pay("c2"), pay("c3")
        r = subprocess.run([CTL, "--config=" + conf, "sandbox", "yookassa", "cancel", "--reason=insufficient_funds", one],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = yookassa(sb, "GET", "/v3/payments/" + one)[1]
        assert got["cancellation_details"] == {"party": "payment_network", "reason": "insufficient_funds"}, got
        assert sb.call("POST", "/sandbox/yookassa/%s/cancel" % two, {"reason": "Bad Reason"})[0] == 400
        assert sb.call("POST", "/sandbox/yookassa/%s/refund" % two)[0] == 409   # not paid
        assert sb.call("POST", "/sandbox/yookassa/%s/succeed" % two)[0] == 200
        r = subprocess.run([CTL, "--config=" + conf, "sandbox", "yookassa", "refund", two], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = yookassa(sb, "GET", "/v3/payments/" + two)[1]
        assert got["refunded_amount"]["value"] == "299.00" and got["refundable"] is False, got
        assert sb.call("POST", "/sandbox/yookassa/%s/refund" % two)[0] == 409   # nothing left to refund
        wait_for(lambda: redis.stream_field("payments", "event").count("refund.succeeded") == 1, what="refund notified")
        # Paid without its notification (a lost one).
        events = len(redis.stream_field("payments", "event"))
        assert sb.call("POST", "/sandbox/yookassa/%s/succeed" % three, {"webhook": False})[0] == 200
        assert yookassa(sb, "GET", "/v3/payments/" + three)[1]["status"] == "succeeded"
        time.sleep(0.5)
        assert len(redis.stream_field("payments", "event")) == events
        # Faults: the call takes effect, its answer is a 500 (then a 202), then all is well again.
        assert sb.call("POST", "/sandbox/yookassa-fault", {"status": 500, "count": 1})[0] == 200
        assert yookassa(sb, "GET", "/v3/payments/" + three)[0] == 500
        assert sb.call("POST", "/sandbox/yookassa-fault", {"status": 202})[0] == 200
        status, body = yookassa(sb, "GET", "/v3/payments/" + three)
        assert status == 202 and body["retry_after"] > 0, body
        assert yookassa(sb, "GET", "/v3/payments/" + three)[0] == 200
        assert sb.call("POST", "/sandbox/yookassa-fault", {"status": 404})[0] == 400
    finally:
        sb.stop()
        d.stop()
        redis.stop()

if __name__ == "__main__":
    run_tests(globals())
