# Upgrading a running platform: every service that runs is restarted exactly once, a running
# migrate is not killed, and updates posted all through the upgrade are all taken (the socket
# stays; what arrives during the restart waits in its backlog).
. /mnt/scenarios/common.sh

running=$(systemctl list-units --state=active --no-legend --plain 'tgfleet-*.service' | awk '{print $1}' | grep -v '^tgfleet-bot@\|tgfleet-migrate')
[ -n "$running" ] || fail "nothing runs before the upgrade"
declare -A before
for u in $running; do before[$u]=$(prop "$u" InvocationID); done
since=$(date '+%Y-%m-%d %H:%M:%S')
secret=$(secret shop)
rm -f /tmp/upgrade-done
python3 - "$secret" > /tmp/upgrade-posts <<'PY' &
import http.client, json, os, sys, time
deadline = time.time() + 60
n = 50000
while time.time() < deadline and not os.path.exists("/tmp/upgrade-done"):
    n += 1
    try:
        c = http.client.HTTPConnection("127.0.0.1", 8443, timeout=30)
        c.request("POST", "/tg/shop", json.dumps({"update_id": n}),
                  {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": sys.argv[1]})
        r = c.getresponse(); r.read(); c.close()
        print(r.status, flush=True)
    except Exception as e:
        print(repr(e), time.strftime("%H:%M:%S"), flush=True)
    time.sleep(0.01)
PY
poster=$!
sleep 1
dpkg -i /mnt/next/tgfleet_*.deb > /tmp/upgrade.log 2>&1 || fail "the upgrade failed: $(tail -20 /tmp/upgrade.log)"
sleep 2
echo done > /tmp/upgrade-done
wait $poster
posts=$(wc -l < /tmp/upgrade-posts)
[ "$posts" -gt 50 ] || fail "only $posts updates were posted during the upgrade"
bad=$(grep -vc '^200$' /tmp/upgrade-posts || true)
[ "$bad" = 0 ] || fail "$bad of $posts updates were not taken during the upgrade: $(grep -v '^200$' /tmp/upgrade-posts | sort | uniq -c)
$(journalctl -o short-precise --since "$since" -u tgfleet-webhookd.service -u tgfleet-webhookd.socket | tail -25)"
for u in $running; do
        [ "$(prop "$u" ActiveState)" = active ] || fail "$u is not active after the upgrade"
        [ "$(prop "$u" InvocationID)" != "${before[$u]}" ] || fail "$u was not restarted by the upgrade"
        stops=$(journalctl -u "$u" --since "$since" -o cat | grep -c '^Stopping ' || true)
        [ "$stops" -le 1 ] || fail "$u was stopped $stops times by one upgrade"
done
grep -qi "unknown username\|unknown group" /tmp/upgrade.log && fail "dbus-daemon warned during the upgrade: $(grep -i unknown /tmp/upgrade.log)"
echo "upgrade: $posts updates posted, all taken; $(echo $running | wc -w) services restarted once"
