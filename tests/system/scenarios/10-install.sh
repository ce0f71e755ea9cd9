# Install the package and configure it as the README tells an admin to; start tgfleet.target.
. /mnt/scenarios/common.sh

dpkg -i /mnt/tgfleet_*.deb
getent passwd tgfleet >/dev/null || fail "sysusers did not create the tgfleet user"
[ -d /etc/tgfleet/tgfleet.conf.d ] || fail "tmpfiles did not create /etc/tgfleet/tgfleet.conf.d"
[ -f /etc/tgfleet/tgfleet.conf ] || fail "no /etc/tgfleet/tgfleet.conf"
# Installing starts nothing: the admin decides.
[ "$(systemctl is-active tgfleet-webhookd.socket)" = inactive ] || fail "the package started the socket"

# Redis with AOF, PostgreSQL with a tgfleet role and database (peer authentication).
sed -i 's/^appendonly no/appendonly yes/' /etc/redis/redis.conf
systemctl enable --now redis-server.service postgresql.service
wait_until 30 su postgres -c "psql -Atc 'SELECT 1'"
su postgres -c "createuser tgfleet && createdb -O tgfleet tgfleet"
# webhookd, deployd and apid run as their own users and reach the database as role tgfleet: a
# peer map.
pgconf=$(ls -d /etc/postgresql/*/main)
printf 'tgfleet tgfleet tgfleet\ntgfleet tgfleet-webhookd tgfleet\ntgfleet tgfleet-deployd tgfleet\ntgfleet tgfleet-apid tgfleet\n' \
        >> "$pgconf/pg_ident.conf"
sed -i '0,/^local/s//local   tgfleet         tgfleet                                 peer map=tgfleet\nlocal/' "$pgconf/pg_hba.conf"
systemctl reload postgresql.service

cat > /etc/tgfleet/tgfleet.conf.d/10-site.conf <<CONF
[Database]
URL=postgresql:///tgfleet?host=/var/run/postgresql&user=tgfleet
[Heleket]
Merchant=8b03432e-385b-4670-8d06-064591096795
[Master]
Operators=1001
CONF
# webhookd's one required credential, paymentd's Heleket key, the shop's and the master bot's
# tokens, the API's bearer token; the other credentials are optional and absent here.
head -c 32 /dev/urandom | base64 > /etc/credstore/webhook-key
echo system-test-heleket-key > /etc/credstore/heleket-api-key
echo 123456:system-test-token > /etc/credstore/bot-token-shop
echo 123457:system-test-master-token > /etc/credstore/bot-token-master
head -c 32 /dev/urandom | base64 > /etc/credstore/api-token
chmod 0600 /etc/credstore/webhook-key /etc/credstore/heleket-api-key /etc/credstore/bot-token-shop \
        /etc/credstore/bot-token-master /etc/credstore/api-token

systemctl enable --now tgfleet.target
wait_prop 30 tgfleet-migrate.service ActiveState active
[ "$(prop tgfleet-migrate.service Result)" = success ] || fail "migrations failed"
[ "$(su postgres -c "psql -d tgfleet -Atc 'SELECT count(*) FROM schema_migrations'")" -ge 1 ] || fail "no migration recorded"
[ "$(systemctl is-active tgfleet-webhookd.socket)" = active ] || fail "the socket is not active"
wait_prop 30 tgfleet-master.service ActiveState active
