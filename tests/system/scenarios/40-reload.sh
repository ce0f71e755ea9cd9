# systemctl reload re-reads the configuration without dropping the socket or a connection.
. /mnt/scenarios/common.sh

pid=$(prop tgfleet-webhookd.service MainPID)
secret=$(secret shop_bot)
python3 - "$secret" <<'PY'
import http.client, subprocess, sys, json
secret = sys.argv[1]
c = http.client.HTTPConnection("127.0.0.1", 8443, timeout=10)
def post(update_id, pad=""):
    body = json.dumps({"update_id": update_id, "pad": pad})
    c.request("POST", "/tg/shop_bot", body, {"Content-Type": "application/json",
                                            "X-Telegram-Bot-Api-Secret-Token": secret})
    r = c.getresponse(); r.read()
    return r.status
assert post(10) == 200
open("/etc/tgfleet/tgfleet.conf.d/20-limits.conf", "w").write("[Webhook]\nMaxBodySize=512\n")
subprocess.run(["systemctl", "reload", "tgfleet-webhookd.service"], check=True)
# The same keep-alive connection, after the reload: still served, with the new limit.
assert post(11) == 200, "connection dropped by reload"
status = post(12, "x" * 1000)
assert status == 413, "new limit not applied: %d" % status
PY
[ "$(prop tgfleet-webhookd.service MainPID)" = "$pid" ] || fail "reload restarted the daemon"
[ "$(systemctl is-active tgfleet-webhookd.socket)" = active ] || fail "the socket went away"
journalctl -u tgfleet-webhookd.service -o cat | grep -q 'Configuration reloaded' || fail "no reload in the journal"
rm /etc/tgfleet/tgfleet.conf.d/20-limits.conf
systemctl reload tgfleet-webhookd.service

# A rotated credential takes a restart (systemd 252 copies credentials at start), and a restart
# of the socket-activated service loses no request: the socket stays open and what arrives
# meanwhile waits in its backlog.
python3 - "$secret" <<'PY'
import http.client, json, subprocess, sys, threading, time
secret = sys.argv[1]
def post(update_id, s):
    c = http.client.HTTPConnection("127.0.0.1", 8443, timeout=20)
    c.request("POST", "/tg/shop_bot", json.dumps({"update_id": update_id}),
              {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": s})
    r = c.getresponse(); r.read(); c.close()
    return r.status
results, done = [], threading.Event()
def loop():
    n = 1000
    while not done.is_set():
        n += 1
        try:
            results.append(post(n, secret))
        except Exception as e:
            results.append(repr(e))
t = threading.Thread(target=loop)
t.start()
time.sleep(0.5)
subprocess.run(["systemctl", "restart", "tgfleet-webhookd.service"], check=True)
time.sleep(1)
done.set()
t.join()
assert len(results) > 20 and all(r == 200 for r in results), [r for r in results if r != 200][:5]
PY
old=$secret
head -c 32 /dev/urandom | base64 > /etc/credstore/webhook-key
[ "$(post_update shop_bot 2001 "$old")" = 200 ] || fail "the old key stopped working before the restart"
systemctl restart tgfleet-webhookd.service
[ "$(post_update shop_bot 2002 "$old")" = 401 ] || fail "the old key still works after the restart"
[ "$(post_update shop_bot 2003)" = 200 ] || fail "the new key does not work after the restart"

# A broken configuration fails the reload, says which value, and changes nothing that runs.
pid=$(prop tgfleet-webhookd.service MainPID)
secret=$(secret shop_bot)    # before: tgfleetctl refuses the broken configuration too
printf '[Webhook]\nMaxBodySize=lots\n' > /etc/tgfleet/tgfleet.conf.d/50-broken.conf
if systemctl reload tgfleet-webhookd.service 2>/dev/null; then fail "a broken configuration reloaded"; fi
journalctl -u tgfleet-webhookd.service -n 20 -o cat | grep -q 'MaxBodySize=lots: invalid value' ||
        fail "the failed reload does not name the bad value"
[ "$(prop tgfleet-webhookd.service MainPID)" = "$pid" ] || fail "the failed reload restarted webhookd"
[ "$(post_update shop_bot 3001 "$secret")" = 200 ] || fail "webhookd stopped serving after a failed reload"
printf '[Shop]\nPackages=100:x\n' > /etc/tgfleet/tgfleet.conf.d/50-broken.conf
if systemctl reload tgfleet-paymentd.service 2>/dev/null; then fail "a broken [Shop] reloaded paymentd"; fi
journalctl -u tgfleet-paymentd.service -n 20 -o cat | grep -q 'Invalid \[Shop\] settings' ||
        fail "paymentd's failed reload does not say what is wrong"
rm /etc/tgfleet/tgfleet.conf.d/50-broken.conf
systemctl reload tgfleet-webhookd.service || fail "a good configuration does not reload"
