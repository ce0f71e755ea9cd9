# The booking platform's control plane under systemd: a client added through the REST API gets
# its own tgfleet-bot@ID.service (a dynamic user, its token as a credential), its webhook in
# Telegram (the sandbox) and answers /start; suspend, resume and a hand stop are followed; polkit
# lets deployd manage tenant bots and nothing else; the bot books a visit through bookingd, which
# knows it by its user, and its reminder arrives; 100 clients in a row all end active.
. /mnt/scenarios/common.sh

. /mnt/scenarios/platform.sh

# The API is socket-activated and refuses strangers (65-master used it: stopped, the socket stays).
systemctl stop tgfleet-apid.service
[ "$(systemctl is-active tgfleet-apid.socket)" = active ] || fail "the API socket is not active"
[ "$(systemctl is-active tgfleet-apid.service)" = inactive ] || fail "apid runs before any request"
[ "$(curl -s -o /dev/null -w '%{http_code}' $API/api/clients)" = 401 ] || fail "no token was not refused"
[ "$(prop tgfleet-apid.service User)" = tgfleet-apid ] || fail "apid does not run as tgfleet-apid"
[ "$(curl -s $API/health | jq -r .status)" = ok ] || fail "apid is not healthy"

# Add a client: deployed, active, its webhook registered, its bot answering.
token=$(new_bot salon_bot)
answer=$(api POST /api/clients "{\"token\":\"$token\",\"owner_id\":42,\"name\":\"Salon Anna\"}")
[ "$(cat /tmp/status)" = 201 ] || fail "adding a client answered $(cat /tmp/status): $answer"
id=$(echo "$answer" | jq -r .client.id)
unit=tgfleet-bot@$id.service
wait_until 30 sh -c "[ \"\$(systemctl is-active $unit)\" = active ]" || fail "$unit is not active: $(journalctl -u tgfleet-deployd -n 20 --no-pager)"
wait_until 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $API/api/clients/$id | jq -r .status)\" = active ]"
[ "$(prop "$unit" DynamicUser)" = yes ] || fail "$unit has no dynamic user"
[ "$(ps -o user= -p "$(prop "$unit" MainPID)")" != root ] || fail "the tenant bot runs as root"
[ "$(stat -c %a /var/lib/tgfleet-deployd/tokens/$id)" = 600 ] || fail "the token file is not 0600"
hook=$(curl -s -X POST "$SB/bot$token/getWebhookInfo" | jq -r .result.url)
[ "$hook" = "http://127.0.0.1:8443/tg/tenant-$id" ] || fail "webhook: $hook"
sent=$(curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
        -d '{"text":"/start","language_code":"en"}' $SB/sandbox/bots/salon_bot/users/77/send)
[ "${sent##* }" = 200 ] || fail "the sandbox could not send /start: $sent"
greeted() { curl -s $SB/sandbox/bots/salon_bot/users/77/messages | jq -e '[.[] | select(.from == "bot") | .html] | any(contains("Welcome to <b>Salon Anna</b>"))'; }
wait_until 20 greeted || fail "the tenant bot did not answer: $(journalctl -u "$unit" -n 20 --no-pager)"
journalctl -u tgfleet-deployd -u tgfleet-apid -u "$unit" --no-pager | grep -qF "${token#*:}" && fail "the token is in the journal"

# Its user is named after the tenant, and tgfleet-bookingd (its own user, holding the one database
# connection, on its own socket: dbus-daemon refuses dynamic users) knows the bot by it alone: the
# bot books a visit, and root asking the same is refused.
wait_prop 30 tgfleet-bookingd.service ActiveState active
[ "$(prop tgfleet-bookingd.service User)" = tgfleet ] || fail "bookingd does not run as tgfleet"
bot_uid=$(ps -o uid= -p "$(prop "$unit" MainPID)" | tr -d ' ')
[ "$(getent passwd "$bot_uid" | cut -d: -f1)" = "tgfleet-bot-$id" ] || fail "the tenant bot's user is $(getent passwd "$bot_uid")"
sql() { su postgres -c "psql -d tgfleet -qAtc \"$1\""; }
service=$(sql "INSERT INTO booking_services (tenant_id, name, duration_min, price_minor) VALUES ($id, 'Cut', 60, 150000) RETURNING id")
staff=$(sql "INSERT INTO booking_staff (tenant_id, name) VALUES ($id, 'Anna') RETURNING id")
sql "INSERT INTO booking_staff_services VALUES ($id, $staff, $service)"
sql "INSERT INTO booking_hours SELECT $id, $staff, d, '[09:00,13:00)' FROM generate_series(1, 7) d"
day=$(sql "SELECT (now() AT TIME ZONE time_zone)::date + 3 FROM tenants WHERE id = $id")
BOT=salon_bot UNIT=$unit
say 77 "📅 Book"
expect 77 "Choose a service"
press 77 "Cut"
expect 77 "Choose a day"
curl -sf -X POST -H 'Content-Type: application/json' -d "{\"data\":\"dy:$service:$staff:0:$day\"}" \
        "$SB/sandbox/bots/$BOT/users/77/press" >/dev/null || fail "the day could not be pressed"
expect 77 "Choose a time"
press 77 "10:00"
expect 77 "Please check your booking"
press 77 "✅ Confirm"
expect 77 "You are booked!"
[ "$(sql "SELECT count(*) FROM bookings WHERE tenant_id = $id AND customer_id = 77 AND status = 'confirmed'")" = 1 ] ||
        fail "no booking in the database"
# Its reminder, the clock moved to its time: bookingd publishes it to the bot's events stream.
sql "UPDATE booking_reminders SET due_at = now() WHERE tenant_id = $id AND offset_min = 1440" >/dev/null
expect 77 "A reminder: your visit is in 1 day."
[ "$(stat -c %a /run/tgfleet/booking.socket)" = 666 ] || fail "bookingd's socket is not open to the tenant bots"
busctl --address=unix:path=/run/tgfleet/booking.socket call org.tgfleet.Booking1 /org/tgfleet/Booking1 \
        org.tgfleet.Booking1 Business 2>/tmp/denied &&
        fail "root was served a business's data"
grep -q "Access denied" /tmp/denied || fail "root's call failed otherwise: $(cat /tmp/denied)"

# Suspend stops it; resume starts it again.
api POST "/api/clients/$id/suspend" >/dev/null
[ "$(cat /tmp/status)" = 202 ] || fail "suspend answered $(cat /tmp/status)"
wait_until 30 sh -c "[ \"\$(systemctl is-active $unit)\" = inactive ]" || fail "$unit still runs after suspend"
wait_until 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $API/api/clients/$id | jq -r .status)\" = suspended ]"
[ "$(curl -s -X POST "$SB/bot$token/getWebhookInfo" | jq -r .result.url)" = "" ] || fail "the webhook survived suspend"
api POST "/api/clients/$id/resume" >/dev/null
wait_until 30 sh -c "[ \"\$(systemctl is-active $unit)\" = active ]" || fail "$unit did not come back on resume"

# Stopped by hand: reconciliation starts it again.
systemctl stop "$unit"
wait_until 30 sh -c "[ \"\$(systemctl is-active $unit)\" = active ]" || fail "reconciliation did not restart $unit"
journalctl -u tgfleet-deployd --no-pager | grep -q "Reconcil" || fail "no reconciliation in the journal"

# polkit: deployd's user may restart a tenant bot, and may not touch any other unit.
as_deployd() {
        setpriv --reuid=tgfleet-deployd --regid=tgfleet-deployd --clear-groups \
                busctl --system call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager "$@"
}
as_deployd RestartUnit ss "$unit" replace >/dev/null || fail "polkit refused deployd a tenant bot"
for call in "StartUnit ss ssh.service replace" "StopUnit ss redis-server.service replace" \
            "RestartUnit ss tgfleet-webhookd.service replace" "StartUnit ss tgfleet-bot@1;x.service replace"; do
        # shellcheck disable=SC2086
        if as_deployd $call 2>/tmp/denied; then fail "polkit let deployd: $call"; fi
        grep -qi "access denied\|interactive authentication required\|not valid" /tmp/denied ||
                fail "unexpected refusal of $call: $(cat /tmp/denied)"
done
[ "$(systemctl is-active redis-server.service)" = active ] || fail "redis-server was stopped"

# Removed: stopped, webhook and token gone, the record kept.
token2=$(new_bot gone_bot)
id2=$(api POST /api/clients "{\"token\":\"$token2\",\"owner_id\":43,\"name\":\"Gone\"}" | jq -r .client.id)
wait_until 30 sh -c "[ \"\$(systemctl is-active tgfleet-bot@$id2.service)\" = active ]"
api DELETE "/api/clients/$id2" >/dev/null
wait_until 30 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $API/api/clients/$id2 | jq -r .status)\" = removed ]"
[ "$(systemctl is-active tgfleet-bot@$id2.service)" != active ] || fail "a removed client's bot runs"
[ ! -e /var/lib/tgfleet-deployd/tokens/$id2 ] || fail "a removed client's token is left"

# 100 clients in a row: all end active.
before=$(systemctl list-units --state=active --no-legend 'tgfleet-bot@*.service' | wc -l)
start=$(date +%s)
for i in $(seq 100); do
        t=$(new_bot "fleet${i}_bot")
        api POST /api/clients "{\"token\":\"$t\",\"owner_id\":$((1000 + i)),\"name\":\"Fleet $i\"}" >/dev/null
        [ "$(cat /tmp/status)" = 201 ] || fail "client $i: $(cat /tmp/status) $(cat /tmp/answer)"
done
active() { [ "$(curl -s -H "Authorization: Bearer $TOKEN" "$API/api/clients?status=active&q=Fleet&limit=1" | jq -r .total)" = 100 ]; }
wait_until 300 active || fail "not all 100 clients are active: $(api GET /api/stats)"
running=$(systemctl list-units --state=active --no-legend 'tgfleet-bot@*.service' | wc -l)
[ "$running" = $((before + 100)) ] || fail "$running tenant bots run, not $((before + 100))"
echo "100 clients deployed in $(( $(date +%s) - start )) s; stats: $(api GET /api/stats | jq -c .clients)"
systemctl stop tgfleet-test-sandbox.service
