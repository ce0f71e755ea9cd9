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
