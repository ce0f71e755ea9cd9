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

# Idle: memory of each tenant bot, against the shop bot and an idle shell.
sleep 5
rss=() anon=() cg=()
for unit in $(systemctl list-units --state=active --no-legend --plain 'tgfleet-bot@*.service' | awk '{print $1}'); do
        pid=$(systemctl show -P MainPID "$unit")
        rss+=($(awk '/^VmRSS/ {print $2}' "/proc/$pid/status"))
        anon+=($(awk '/^RssAnon/ {print $2}' "/proc/$pid/status"))
        cg+=($(( $(systemctl show -P MemoryCurrent "$unit") / 1024 )))
done
systemd-run --quiet --unit=bench-idle-shell /bin/sh -c 'exec sleep infinity'
sleep 0.5
shell_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(systemctl show -P MainPID bench-idle-shell)/status")
shop_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(systemctl show -P MainPID tgfleet-botd.service)/status")
systemctl stop bench-idle-shell
echo "memory of an idle tenant bot (${#rss[@]} running):"
echo "  RSS p50 $(printf '%s\n' "${rss[@]}" | median) KiB (private $(printf '%s\n' "${anon[@]}" | median) KiB), max $(printf '%s\n' "${rss[@]}" | pct 100) KiB; cgroup MemoryCurrent p50 $(printf '%s\n' "${cg[@]}" | median) KiB"
echo "  reference: the shop bot $shop_rss KiB, sleep(1) $shell_rss KiB"

# Idle: CPU of the whole fleet over 10 s, against one busy-looping reference for scale.
cpu() { systemctl show -P CPUUsageNSec $(systemctl list-units --state=active --no-legend --plain 'tgfleet-bot@*.service' | awk '{print $1}') 2>/dev/null | awk '{s+=$1} END {print s}'; }
c0=$(cpu)
sleep 10
c1=$(cpu)
echo "CPU of the idle fleet over 10 s: $(awk -v d=$((c1 - c0)) -v n="${#rss[@]}" 'BEGIN {printf "%.3f %% of one core in all, %.1f µs/s per bot", d / 1e7 / 10, d / 1e3 / 10 / n}')"
echo "  (each bot wakes for the watchdog every 5 s and its status every 2 s)"
