# SPDX-License-Identifier: MIT
# Shared setup of the system tests: a Debian 12 tree made by debootstrap and cached under
# /var/cache (rebuilt only when the package list changes), booted with systemd as PID 1 by
# systemd-nspawn with a throwaway overlay, and helpers to run commands inside it as an admin would.

CACHE=${TGFLEET_SYSTEST_CACHE:-/var/cache/tgfleet-systemtest}
# Everything the tests need inside, installed now: the container has no network.
PACKAGES=systemd,systemd-sysv,dbus,libpam-systemd,redis-server,postgresql,curl,ca-certificates,procps,iproute2,python3,\
libmicrohttpd12,libhiredis0.14,libinih1,libjson-c5,libcurl3-gnutls,libpq5,libgnutls30,libsystemd0,jq,polkitd,libnss-systemd,nginx-light
MACHINE=tgfleet-systest

skip() {
        echo "SKIP: $*"
        exit 77
}

require_host() {
        [ "$(id -u)" -eq 0 ] || skip "needs root"
        command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (package systemd-container)"
        command -v debootstrap >/dev/null || skip "debootstrap is not installed"
}

mirror() {
        local uri
        uri=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
        echo "${uri:-http://deb.debian.org/debian}"
}

# Prints the path of the cached base tree, creating it when missing.
base_tree() {
        local key dir
        key=$(echo "$PACKAGES" | sha256sum | cut -c1-12)
        dir=$CACHE/bookworm-$key
        if [ ! -f "$dir/.complete" ]; then
                rm -rf "$dir"
                mkdir -p "$CACHE"
                echo "creating the base tree $dir (once)" >&2
                debootstrap --variant=minbase --include="$PACKAGES" bookworm "$dir" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1 ||
                        { tail -20 "$CACHE/debootstrap.log" >&2; return 1; }
                # No services of the image may start by themselves; the tests start what they use.
                chroot "$dir" systemctl disable redis-server.service postgresql.service nginx.service >/dev/null 2>&1 || true
                echo tgfleet-test > "$dir/etc/hostname"
                touch "$dir/.complete"
        fi
        # pg_createcluster ran in a chroot that saw the host's PostgreSQL on 5432 and took the next
        # port; inside the container the cluster is alone.
        sed -i 's/^port = [0-9]*/port = 5432/' "$dir"/etc/postgresql/*/main/postgresql.conf
        echo "$dir"
}

# boot TREE DIR_TO_BIND: boots the tree, the repository's tests and the package at /mnt.
boot() {
        local tree=$1 bind=$2
        NSPAWN_LOG=$(mktemp)
        systemd-nspawn --boot --register=no --keep-unit --private-network --volatile=overlay \
                --machine="$MACHINE" -D "$tree" --bind-ro="$bind:/mnt" \
                >"$NSPAWN_LOG" 2>&1 </dev/null &
        NSPAWN_PID=$!
        local i
        for i in $(seq 200); do
                LEADER=$(leader_pid) && [ -n "$LEADER" ] && break
                sleep 0.1
        done
        [ -n "${LEADER:-}" ] || { cat "$NSPAWN_LOG"; return 1; }
        # Wait for the boot to settle; "degraded" is fine (a minimal image lacks some hardware).
        for i in $(seq 300); do
                state=$(in_container systemctl is-system-running 2>/dev/null || true)
                case $state in running|degraded) return 0 ;; esac
                sleep 0.2
        done
        echo "the container did not finish booting (state: $state)"; cat "$NSPAWN_LOG"
        return 1
}

# The container's PID 1, seen from the host.
leader_pid() {
        local p
        for p in $(pgrep -P "$NSPAWN_PID") $(pgrep -P "$(pgrep -P "$NSPAWN_PID" | head -1)" 2>/dev/null); do
                if grep -q '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

in_container() {
        nsenter -t "$LEADER" -m -u -i -n -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

poweroff() {
        [ -n "${NSPAWN_PID:-}" ] || return 0
        in_container systemctl poweroff >/dev/null 2>&1 || kill "$NSPAWN_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$NSPAWN_PID" 2>/dev/null || true
        rm -f "$NSPAWN_LOG"
}
