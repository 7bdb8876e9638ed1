#!/usr/bin/env bash
# Installs and starts what the tests need beyond npm: PostgreSQL, MariaDB (for mysql2), Redis and
# RabbitMQ on loopback, and Chromium for the viewer's browser tests, all from Debian's packages. Idempotent: a
# server already answering on its port is left alone. Fails loudly, naming the server, when one cannot
# be installed or started: the database tests must never pass by skipping.
#
#   bash scripts/setup-test-env.sh          (as root, or with sudo available)
#
# Ports and credentials (the tests read the same defaults, see test/helpers/db-servers.ts):
#   PostgreSQL 127.0.0.1:${TEST_PG_PORT:-54329}     user acme / password acme-pg-pass
#   MariaDB    127.0.0.1:${TEST_MYSQL_PORT:-33069}  user acme / password acme-mysql-pass
#   Redis      127.0.0.1:${TEST_REDIS_PORT:-63799}  password acme-redis-pass
#   RabbitMQ   127.0.0.1:${TEST_AMQP_PORT:-56729}   user acme / password acme-amqp-pass, vhost /
set -euo pipefail

PG_PORT="${TEST_PG_PORT:-54329}"
MYSQL_PORT="${TEST_MYSQL_PORT:-33069}"
REDIS_PORT="${TEST_REDIS_PORT:-63799}"
AMQP_PORT="${TEST_AMQP_PORT:-56729}"
DATA="${TEST_SERVERS_DIR:-/tmp/acme-tracing-test-servers}"

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else echo "setup-test-env: must run as root (or with sudo) to install Debian packages" >&2; exit 1; fi
fi

fail() { echo "setup-test-env: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  for _ in $(seq 1 $(($3 * 10))); do port_open "$2" && return 0; sleep 0.1; done
  return 1
}

packages=()
command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || packages+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || packages+=(rabbitmq-server)
[ -x /usr/bin/chromium ] || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup-test-env: installing ${packages[*]} from Debian's packages"
  # Debian's packages start their own service at install (RabbitMQ: node rabbit@host on 0.0.0.0:5672, epmd
  # on every interface). This script starts each server itself, on loopback and a test port, so the
  # services are kept from starting; a policy-rc.d already in place (containers have one) is left as is.
  POLICY=/usr/sbin/policy-rc.d
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# setup-test-env.sh: no service starts while it installs packages\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
  fi
  $SUDO apt-get update -qq || fail "apt-get update failed (needed for: ${packages[*]})"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
    || fail "could not install ${packages[*]} with apt-get"
  # Under systemd, policy-rc.d is not always asked: stop and disable the service the package enabled.
  if [ -d /run/systemd/system ] && [[ " ${packages[*]} " == *" rabbitmq-server "* ]]; then
    $SUDO systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  fi
fi
mkdir -p "$DATA"
chmod 755 "$DATA"

# --- PostgreSQL -------------------------------------------------------------------------------
if port_open "$PG_PORT"; then
  echo "setup-test-env: PostgreSQL already answering on 127.0.0.1:$PG_PORT"
else
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  [ -x "$PG_BIN/initdb" ] || fail "PostgreSQL: initdb not found after installing postgresql"
  PG_DATA="$DATA/postgres"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    rm -rf "$PG_DATA" && mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
    $SUDO runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null \
      || fail "PostgreSQL: initdb failed in $PG_DATA"
  fi
  $SUDO runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 30 \
    -o "-p $PG_PORT -h 127.0.0.1 -k $PG_DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || fail "PostgreSQL did not start on 127.0.0.1:$PG_PORT (see $PG_DATA/server.log)"
  $SUDO runuser -u postgres -- psql -h "$PG_DATA" -p "$PG_PORT" -U postgres -qAt -c \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'acme') THEN CREATE ROLE acme LOGIN SUPERUSER PASSWORD 'acme-pg-pass'; END IF; END \$\$;" >/dev/null \
    || fail "PostgreSQL: could not create the test role"
  echo "setup-test-env: PostgreSQL on 127.0.0.1:$PG_PORT"
fi

# --- MariaDB ----------------------------------------------------------------------------------
if port_open "$MYSQL_PORT"; then
  echo "setup-test-env: MariaDB already answering on 127.0.0.1:$MYSQL_PORT"
else
  MY_DATA="$DATA/mariadb"
  if [ ! -d "$MY_DATA/mysql" ]; then
    rm -rf "$MY_DATA" && mkdir -p "$MY_DATA" && chown mysql:mysql "$MY_DATA"
    $SUDO mariadb-install-db --user=mysql --datadir="$MY_DATA" --auth-root-authentication-method=socket --skip-test-db >/dev/null 2>&1 \
      || fail "MariaDB: mariadb-install-db failed in $MY_DATA"
  fi
  setsid $SUDO /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MY_DATA" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
    --socket="$MY_DATA/mysqld.sock" --pid-file="$MY_DATA/mysqld.pid" --log-error="$MY_DATA/error.log" \
    --innodb-flush-log-at-trx-commit=0 --skip-name-resolve </dev/null >/dev/null 2>&1 &
  wait_port MariaDB "$MYSQL_PORT" 60 || fail "MariaDB did not start on 127.0.0.1:$MYSQL_PORT (see $MY_DATA/error.log)"
  $SUDO mariadb --no-defaults -uroot --socket="$MY_DATA/mysqld.sock" -e \
    "CREATE USER IF NOT EXISTS 'acme'@'127.0.0.1' IDENTIFIED BY 'acme-mysql-pass'; GRANT ALL PRIVILEGES ON *.* TO 'acme'@'127.0.0.1'; FLUSH PRIVILEGES;" \
    || fail "MariaDB: could not create the test user"
  echo "setup-test-env: MariaDB on 127.0.0.1:$MYSQL_PORT"
fi

# --- Redis ------------------------------------------------------------------------------------
if port_open "$REDIS_PORT"; then
  echo "setup-test-env: Redis already answering on 127.0.0.1:$REDIS_PORT"
else
  mkdir -p "$DATA/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$DATA/redis" --logfile "$DATA/redis/redis.log" --requirepass acme-redis-pass >/dev/null \
    || fail "Redis did not start on 127.0.0.1:$REDIS_PORT"
  wait_port Redis "$REDIS_PORT" 10 || fail "Redis did not answer on 127.0.0.1:$REDIS_PORT (see $DATA/redis/redis.log)"
  echo "setup-test-env: Redis on 127.0.0.1:$REDIS_PORT"
fi

# --- RabbitMQ ---------------------------------------------------------------------------------
# Its own node name, data, logs, config, Erlang cookie and epmd port under $DATA, so it neither meets nor
# disturbs a RabbitMQ the machine may run as a service. Distribution (the CLI tools' channel) and epmd
# listen on loopback only. The test user comes from the config file on the first boot of the data dir.
if port_open "$AMQP_PORT"; then
  echo "setup-test-env: RabbitMQ already answering on 127.0.0.1:$AMQP_PORT"
else
  RMQ="$DATA/rabbitmq"
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || fail "RabbitMQ: /usr/lib/rabbitmq/bin/rabbitmq-server missing after installing rabbitmq-server"
  mkdir -p "$RMQ/mnesia" "$RMQ/log"
  cat >"$RMQ/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
default_user = acme
default_pass = acme-amqp-pass
default_vhost = /
loopback_users = none
disk_free_limit.absolute = 50MB
CONF
  echo '[].' >"$RMQ/enabled_plugins"
  : >"$RMQ/rabbitmq-env.conf"
  [ -f "$RMQ/.erlang.cookie" ] || { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RMQ/.erlang.cookie"; }
  chmod 400 "$RMQ/.erlang.cookie"
  chown -R rabbitmq:rabbitmq "$RMQ"
  # rabbitmq-server stays in the foreground: setsid detaches it from this script like mariadbd above.
  setsid $SUDO runuser -u rabbitmq -- env HOME="$RMQ" \
    RABBITMQ_NODENAME="acme-test@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$((AMQP_PORT + 1))" ERL_EPMD_PORT="$((AMQP_PORT + 2))" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CONF_ENV_FILE="$RMQ/rabbitmq-env.conf" RABBITMQ_CONFIG_FILE="$RMQ/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ/enabled_plugins" RABBITMQ_MNESIA_BASE="$RMQ/mnesia" \
    RABBITMQ_LOG_BASE="$RMQ/log" RABBITMQ_PID_FILE="$RMQ/rabbitmq.pid" \
    /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >"$RMQ/log/stdout.log" 2>&1 &
  # The AMQP listener opens last in the boot, after the test user exists: an open port means ready.
  wait_port RabbitMQ "$AMQP_PORT" 90 || fail "RabbitMQ did not start on 127.0.0.1:$AMQP_PORT (see $RMQ/log/)"
  echo "setup-test-env: RabbitMQ on 127.0.0.1:$AMQP_PORT"
fi

[ -x /usr/bin/chromium ] || fail "Chromium: /usr/bin/chromium missing after installing chromium"
echo "setup-test-env: Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') at /usr/bin/chromium"
