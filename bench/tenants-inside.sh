# SPDX-License-Identifier: MIT
# Run by bench/tenants inside the container, after 10-install.sh: deploys N clients one after
# another and prints the figures.
. /mnt/scenarios/common.sh
. /mnt/scenarios/platform.sh
N=${N:-200}
trap - ERR

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; print a[i]}'; }

# Reference: systemd starting a trivial Type=notify service that is ready at once.
ref=()
for i in $(seq 20); do
        t=$(ms)
        systemd-run --quiet --wait -p Type=notify -p NotifyAccess=all /bin/sh -c 'systemd-notify --ready' >/dev/null
        ref+=($(( $(ms) - t )))
done
ref_p50=$(printf '%s\n' "${ref[@]}" | median)

# Deploys one after another: the time from POST /api/clients to the client being active
# (request → active in its audit log, to the millisecond).
start=$(ms)
for i in $(seq "$N"); do
        t=$(new_bot "bench${i}_bot")
        id=$(api POST /api/clients "{\"token\":\"$t\",\"owner_id\":$((5000 + i)),\"name\":\"Bench $i\"}" | jq -r .client.id)
        [ "$(cat /tmp/status)" = 201 ] || fail "client $i: $(cat /tmp/status) $(cat /tmp/answer)"
        for _ in $(seq 600); do
                [ "$(api GET "/api/clients/$id" | jq -r .status)" = active ] && break
                sleep 0.02
        done
done
total=$(( $(ms) - start ))
times=$(su postgres -c "psql -d tgfleet -Atc \"
        SELECT round(extract(epoch FROM a.at - r.at) * 1000)
        FROM tenant_audit r JOIN tenant_audit a ON a.tenant_id = r.tenant_id
        WHERE r.action = 'request' AND r.detail->>'action' = 'deploy'
          AND a.action = 'deploy' AND a.detail->>'status' = 'active'\"")
n=$(echo "$times" | grep -c .)
[ "$n" = "$N" ] || fail "$n of $N clients are active"
echo "deploy, POST → active, $N clients one after another ($((total / 1000)) s in all):"
echo "  p50 $(echo "$times" | median) ms, p95 $(echo "$times" | pct 95) ms, max $(echo "$times" | pct 100) ms"
echo "  reference: systemd starting a trivial notify service, p50 $ref_p50 ms"

# Idle: memory of each tenant bot (PSS: its private pages plus its share of the libraries all
# bots map), against the shop bot and sleep(1) as systemd runs them.
sleep 5
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }
pids=$(for u in $(systemctl list-units --state=active --no-legend --plain 'tgfleet-bot@*.service' | awk '{print $1}'); do
        systemctl show -P MainPID "$u"; done)
n=$(echo "$pids" | grep -c .)
pss=$(for p in $pids; do kib "$p" Pss; done)
rss=$(for p in $pids; do kib "$p" Rss; done)
private=$(for p in $pids; do echo $(( $(kib "$p" Private_Clean) + $(kib "$p" Private_Dirty) )); done)
systemd-run --quiet --unit=bench-idle-sleep /bin/sleep infinity
sleep 0.5
sleep_pid=$(systemctl show -P MainPID bench-idle-sleep)
shop_pid=$(systemctl show -P MainPID tgfleet-botd.service)
echo "memory of an idle tenant bot ($n running):"
echo "  PSS p50 $(echo "$pss" | median) KiB, max $(echo "$pss" | pct 100) KiB; private p50 $(echo "$private" | median) KiB; RSS p50 $(echo "$rss" | median) KiB (libraries shared by all)"
echo "  reference: the shop bot PSS $(kib "$shop_pid" Pss) KiB, RSS $(kib "$shop_pid" Rss) KiB; sleep(1) PSS $(kib "$sleep_pid" Pss) KiB, RSS $(kib "$sleep_pid" Rss) KiB"
systemctl stop bench-idle-sleep

# Idle: CPU of the whole fleet over 30 s (utime + stime, in clock ticks), against sleep(1).
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s + 0}'; }
hz=$(getconf CLK_TCK)
c0=$(ticks $pids)
sleep 30
c1=$(ticks $pids)
awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$n" 'BEGIN {
        printf "CPU of the idle fleet over 30 s: %.3f %% of one core in all, %.1f µs/s per bot\n", d / hz / 30 * 100, d / hz / 30 / n * 1e6 }'
echo "  (each bot wakes when its blocking reads expire, every 2 s, and for the watchdog, every 5 s)"
