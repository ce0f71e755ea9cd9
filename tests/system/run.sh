#!/bin/bash
# SPDX-License-Identifier: MIT
# System test: boots Debian 12 with systemd as PID 1 in systemd-nspawn, installs the freshly built
# package and runs each scenarios/NN-*.sh inside, in order, as an admin would. Skips (77) where
# systemd-nspawn cannot run. Usage: run.sh [DEB]; TGFLEET_SCENARIOS=REGEX runs only the scenarios
# whose names match (10-install, which the others build on, always runs).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

require_host
deb=${1:-}
if [ -z "$deb" ]; then
        "$top/scripts/build-deb" >/dev/null || { echo "building the package failed"; exit 1; }
        deb=$(ls "$top"/build-deb/tgfleet_*.deb | head -1)
fi
tree=$(base_tree) || { echo "could not create the base tree"; exit 1; }

stage=$(mktemp -d)
cp "$deb" "$stage/"
# The next version, for the upgrade scenario: the same package with a higher version number, so
# that dpkg runs every maintainer script of an upgrade.
mkdir "$stage/next" "$stage/unpacked"
dpkg-deb -R "$deb" "$stage/unpacked"
sed -i 's/^Version: .*/&+next1/' "$stage/unpacked/DEBIAN/control"
dpkg-deb -b "$stage/unpacked" "$stage/next/" >/dev/null || { echo "could not make the next version"; exit 1; }
rm -rf "$stage/unpacked"
# The emulator of Telegram is no part of the package: the tenant scenarios bring it along.
sandbox=${TGFLEET_SANDBOX:-$top/build/src/sandbox/tgfleet-sandbox}
[ -x "$sandbox" ] || { echo "no tgfleet-sandbox binary at $sandbox"; exit 1; }
cp "$sandbox" "$stage/"
cp -r "$here/scenarios" "$stage/"
trap 'poweroff; rm -rf "$stage"' EXIT

boot "$tree" "$stage" || skip "systemd-nspawn could not boot the container here"

passed=0 failed=0
for s in "$stage"/scenarios/[0-9]*.sh; do
        name=$(basename "$s" .sh)
        [[ $name = 10-* || $name =~ ${TGFLEET_SCENARIOS:-.} ]] || continue
        start=$(date +%s)
        if out=$(in_container bash "/mnt/scenarios/$name.sh" 2>&1); then
                passed=$((passed + 1))
                echo "PASS $name ($(( $(date +%s) - start ))s)"
                [ -n "$out" ] && echo "$out" | tail -3 | sed 's/^/    /'
        else
                failed=$((failed + 1))
                echo "FAIL $name"
                echo "$out" | tail -40 | sed 's/^/    /'
                # Later scenarios build on earlier ones.
                break
        fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
