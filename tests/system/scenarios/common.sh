# SPDX-License-Identifier: MIT
# Sourced by every scenario; runs inside the container, as root, like an admin's shell.
set -euo pipefail
# A command that fails outside a test of its status names itself.
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR

fail() {
        echo "FAILED: $*" >&2
        exit 1
}

# wait_until SECONDS COMMAND…: retries COMMAND every 0.2 s.
wait_until() {
        local t=$1
        shift
        for _ in $(seq $((t * 5))); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.2
        done
        "$@"
}

secret() {
        tgfleetctl --credentials-dir=/etc/credstore webhooks secret "$1"
}

# post_update BOT UPDATE_ID [SECRET] → prints the HTTP status
post_update() {
        local secret=${3:-$(secret "$1")}
        curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
                -H "X-Telegram-Bot-Api-Secret-Token: $secret" \
                -d "{\"update_id\":$2,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1,\"type\":\"private\"},\"text\":\"/start\"}}" \
                "http://127.0.0.1:8443/tg/$1"
}

prop() { # prop UNIT PROPERTY
        systemctl show -P "$2" "$1"
}

# wait_prop SECONDS UNIT PROPERTY VALUE: until the unit's property has that value.
wait_prop() {
        local t=$1 unit=$2 p=$3 want=$4
        for _ in $(seq $((t * 5))); do
                [ "$(prop "$unit" "$p")" = "$want" ] && return 0
                sleep 0.2
        done
        systemctl status --no-pager "$unit" >&2 || true
        journalctl -u "$unit" -n 30 --no-pager >&2 || true
        fail "$unit: $p is $(prop "$unit" "$p"), not $want"
}
