# The socket listens before the service runs; the first request starts the service and is
# answered; the service is Type=notify, running, with a STATUS= text.
. /mnt/scenarios/common.sh

[ "$(systemctl is-active tgfleet-webhookd.service)" = inactive ] || fail "the service runs before any request"
ss -Htln 'sport = :8443' | grep -q LISTEN || fail "nothing listens on :8443"

code=$(post_update shop_bot 1)
[ "$code" = 200 ] || fail "first request answered $code: $(journalctl -u tgfleet-webhookd -n 20 --no-pager)"
[ "$(systemctl is-active tgfleet-webhookd.service)" = active ] || fail "the service is not active after the first request"
[ "$(prop tgfleet-webhookd.service Type)" = notify ] || fail "not Type=notify"
[ "$(prop tgfleet-webhookd.service SubState)" = running ] || fail "not running"
[ "$(redis-cli XLEN updates:shop_bot)" = 1 ] || fail "the update is not in its stream"
wait_until 10 sh -c "systemctl show -P StatusText tgfleet-webhookd.service | grep -q 'Accepted 1'"
# Its dynamic user reaches PostgreSQL through the peer map (checked every 5 s).
wait_until 20 sh -c "curl -sf http://127.0.0.1:8443/health/db | grep -q up" ||
        fail "webhookd does not reach the database: $(curl -s http://127.0.0.1:8443/health/db)
$(journalctl -u tgfleet-webhookd -n 8 --no-pager; tail -5 /var/log/postgresql/*.log)"
wait_until 10 sh -c "systemctl show -P StatusText tgfleet-webhookd.service | grep -q 'database up'" ||
        fail "the status does not say the database is up: $(prop tgfleet-webhookd.service StatusText)"
echo "StatusText: $(prop tgfleet-webhookd.service StatusText)"
# The unit's sandbox is in force.
[ "$(prop tgfleet-webhookd.service DynamicUser)" = yes ] || fail "DynamicUser is off"
user=$(ps -o user= -p "$(prop tgfleet-webhookd.service MainPID)")
[ "$user" != root ] || fail "the daemon runs as root"
