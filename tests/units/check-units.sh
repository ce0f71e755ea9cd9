#!/bin/bash
# SPDX-License-Identifier: MIT
# The unit files: systemd-analyze verify finds nothing wrong (other than our own binaries not
# being installed on the build host), and each service's exposure is within its target.
set -u
# UNITDIR has the plain units, BUILDDIR the ones configured from units/*.in.
src=${1:?usage: check-units.sh UNITDIR BUILDDIR}
built=${2:?usage: check-units.sh UNITDIR BUILDDIR}
units=$(mktemp -d)
trap 'rm -rf "$units"' EXIT
cp "$src"/*.socket "$src"/*.target "$units"/
cp "$built"/*.service "$units"/
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze, skipping"; exit 77; }
fail=0

out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$units"/*.service "$units"/*.socket "$units"/*.target 2>&1 \
      | grep -v -E 'Command /.*/(tgfleet-[a-z]+|tgfleetctl) is not executable')
if [ -n "$out" ]; then
        echo "systemd-analyze verify:"; echo "$out"; fail=1
fi

# Exposure targets, as systemd-analyze's 0–100 scale (2.0 → 20).
declare -A target=([tgfleet-webhookd.service]=20 [tgfleet-migrate.service]=30 [tgfleet-paymentd.service]=25 [tgfleet-botd.service]=25
                   [tgfleet-deployd.service]=20 [tgfleet-apid.service]=20 [tgfleet-bot@.service]=15
                   [tgfleet-master.service]=15 [tgfleet-sales.service]=15 [tgfleet-bookingd.service]=25)
for unit in "${!target[@]}"; do
        level=$(systemd-analyze security --offline=true "$units/$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        echo "$unit exposure $level (target ≤ $(awk "BEGIN{print ${target[$unit]}/10}"))"
        if ! systemd-analyze security --offline=true --threshold="${target[$unit]}" "$units/$unit" >/dev/null 2>&1; then
                echo "$unit: exposure above target"; fail=1
        fi
done
exit $fail
