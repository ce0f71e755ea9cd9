# The platform started while PostgreSQL is down, then while Redis is down, as after a boot where
# either is late or broken: every service runs and says in STATUS= and the journal what it waits
# for, /health answers 503 at once, migrate tries again until the database answers, and each
# service says when its connection is back, with nothing restarted by hand.
. /mnt/scenarios/common.sh

health() { # health URL → the HTTP status, within 3 s
        curl -s -o /dev/null -w '%{http_code}' -m 3 "$1" || true
}
status_says() { # status_says UNIT TEXT: STATUS= begins with TEXT
        case "$(prop "$1" StatusText)" in "$2"*) return 0 ;; esac
        return 1
}
journal_says() { # journal_says SINCE UNIT TEXT
        journalctl -o cat --since "$1" -u "$2" | grep -qF "$3"
}
expect_all() { # expect_all SECONDS CHECK SINCE-OR-"" TEXT UNIT…
        local t=$1 check=$2 since=$3 text=$4 u
        shift 4
        for u in "$@"; do
                if [ "$check" = status ]; then
                        wait_until "$t" status_says "$u" "$text" ||
                                fail "$u: STATUS= is \"$(prop "$u" StatusText)\", not \"$text…\""
                else
                        wait_until "$t" journal_says "$since" "$u" "$text" ||
                                fail "$u: no \"$text\" in the journal: $(journalctl -o cat --since "$since" -u "$u" | tail -5)"
                fi
        done
}

db_units="tgfleet-paymentd.service tgfleet-deployd.service tgfleet-apid.service"
redis_units="tgfleet-webhookd.service tgfleet-botd.service tgfleet-paymentd.service tgfleet-deployd.service
             tgfleet-master.service"

bots() { systemctl list-units --state=active --no-legend --plain 'tgfleet-bot@*.service' | wc -l; }
bots_before=$(bots)

# --- PostgreSQL down at start ---------------------------------------------------------------------
systemctl stop tgfleet.target
systemctl stop postgresql.service 'postgresql@*.service'
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start --no-block tgfleet.target
# apid is socket-activated: /health starts it, and it answers at once.
wait_until 15 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:8000/health)\" = 503 ]" ||
        fail "/health of apid answers $(health http://127.0.0.1:8000/health), not 503"
start=$(date +%s%N)
[ "$(health http://127.0.0.1:8000/health)" = 503 ] || fail "/health of apid is not 503"
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "apid /health with PostgreSQL down: 503 in ${took} ms"
[ "$took" -lt 1000 ] || fail "/health took ${took} ms"
declare -A pid
for u in $db_units; do
        wait_prop 15 "$u" ActiveState active
        pid[$u]=$(prop "$u" MainPID)
done
expect_all 10 status "" "Waiting for PostgreSQL (" $db_units
expect_all 10 journal "$since" "Waiting for PostgreSQL (" $db_units
echo "STATUS= of paymentd: $(prop tgfleet-paymentd.service StatusText)"
# migrate fails, and is started again every 5 s.
wait_until 15 sh -c '[ "$(systemctl show -P NRestarts tgfleet-migrate.service)" -ge 1 ]' ||
        fail "tgfleet-migrate.service was not tried again: $(systemctl status --no-pager tgfleet-migrate.service)"
journal_says "$since" tgfleet-migrate.service "Cannot connect to the database" || fail "migrate did not say why"
# Telegram's updates are taken all the same: they need only Redis.
[ "$(post_update shop_bot 7501)" = 200 ] || fail "webhookd did not take an update with PostgreSQL down"

systemctl start postgresql.service
wait_until 30 su postgres -c "psql -Atc 'SELECT 1'" ||
        fail "PostgreSQL did not start: $(systemctl status --no-pager 'postgresql@*' | tail -5)"
# Within its next try (5 s); the tenant bots of 70-tenants start along with the target and
# compete for the CPU (on two cores a start of a hundred units at once takes a while).
up=$(date +%s)
wait_until 60 sh -c '[ "$(systemctl show -P ActiveState tgfleet-migrate.service)" = active ]' ||
        fail "migrate did not run with PostgreSQL back: $(systemctl status --no-pager tgfleet-migrate.service | head -12;
                                                         journalctl -o cat -u tgfleet-migrate.service -n 5; ps -ef | grep tgfleetc[t])"
echo "migrate ran $(( $(date +%s) - up )) s after PostgreSQL was back"
wait_prop 30 tgfleet.target ActiveState active
wait_until 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:8000/health)\" = 200 ]" ||
        fail "/health of apid answers $(health http://127.0.0.1:8000/health) with PostgreSQL back"
expect_all 30 journal "$since" "PostgreSQL connection is back." $db_units tgfleet-webhookd.service
for u in $db_units; do
        wait_until 10 sh -c "! systemctl show -P StatusText $u | grep -q Waiting" ||
                fail "$u still says $(prop "$u" StatusText)"
        [ "$(prop "$u" MainPID)" = "${pid[$u]}" ] || fail "$u was restarted while it waited"
done
echo "PostgreSQL back: migrate ran after $(prop tgfleet-migrate.service NRestarts) retries, every service reconnected"

# --- Redis down at start ---------------------------------------------------------------------------
systemctl stop tgfleet.target
systemctl stop redis-server.service
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start --no-block tgfleet.target
start=$(date +%s%N)
code=$(post_update shop_bot 7502)
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "an update with Redis down: $code in ${took} ms"
[ "$code" = 503 ] || fail "webhookd answered $code to an update with Redis down"
[ "$(health http://127.0.0.1:8443/health)" = 503 ] || fail "/health of webhookd is not 503 with Redis down"
for u in $redis_units; do
        wait_prop 15 "$u" ActiveState active
done
expect_all 10 status "" "Waiting for Redis (" $redis_units
expect_all 10 journal "$since" "Waiting for Redis (" $redis_units

systemctl start redis-server.service
wait_until 15 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:8443/health)\" = 200 ]" ||
        fail "/health of webhookd answers $(health http://127.0.0.1:8443/health) with Redis back"
[ "$(post_update shop_bot 7502)" = 200 ] || fail "webhookd does not take updates with Redis back"
expect_all 15 journal "$since" "Redis connection is back." $redis_units
for u in $redis_units; do
        wait_until 10 sh -c "! systemctl show -P StatusText $u | grep -q Waiting" ||
                fail "$u still says $(prop "$u" StatusText)"
done
echo "Redis back: every service reconnected by itself"
# The clients' bots, stopped with the target, are started again by deployd's reconciliation:
# what follows starts from a platform at rest.
wait_until 180 sh -c "[ \$(systemctl list-units --state=active --no-legend --plain 'tgfleet-bot@*.service' | wc -l) -ge $bots_before ] &&
                      [ -z \"\$(systemctl list-jobs --no-legend)\" ]" ||
        fail "the clients' bots are not all back: $(bots) of $bots_before"
echo "the $bots_before clients' bots are running again"
