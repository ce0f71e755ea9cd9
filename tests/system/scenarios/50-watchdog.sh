# A service frozen with SIGSTOP is killed and restarted by the watchdog within WatchdogSec.
. /mnt/scenarios/common.sh

mkdir -p /etc/systemd/system/tgfleet-webhookd.service.d
printf '[Service]\nWatchdogSec=3s\n' > /etc/systemd/system/tgfleet-webhookd.service.d/50-test-watchdog.conf
systemctl daemon-reload
systemctl restart tgfleet-webhookd.service
wait_prop 10 tgfleet-webhookd.service ActiveState active
pid=$(prop tgfleet-webhookd.service MainPID)
restarts=$(prop tgfleet-webhookd.service NRestarts)
kill -STOP "$pid"
start=$(date +%s)
wait_until 15 sh -c "[ \"\$(systemctl show -P MainPID tgfleet-webhookd.service)\" != $pid ] && [ \"\$(systemctl is-active tgfleet-webhookd.service)\" = active ]"
took=$(( $(date +%s) - start ))
[ "$(prop tgfleet-webhookd.service NRestarts)" -gt "$restarts" ] || fail "NRestarts did not grow"
journalctl -u tgfleet-webhookd.service -o cat | grep -qi 'watchdog timeout' || fail "no watchdog timeout in the journal"
echo "restarted by the watchdog after ${took}s (WatchdogSec=3s)"
[ "$took" -le 8 ] || fail "took ${took}s"
[ "$(post_update shop_bot 20)" = 200 ] || fail "not serving after the restart"
rm /etc/systemd/system/tgfleet-webhookd.service.d/50-test-watchdog.conf
systemctl daemon-reload
