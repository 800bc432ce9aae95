#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft), PostgreSQL 15 (a primary and its streaming read
# replica), Redis 7 as plain processes on loopback, data and logs under $BOXOFFICE_STACK_DIR (default
# .stack/, git-ignored). NGINX is not a component here: it fronts the intake processes, so
# stack/services.sh starts it after them (through stack/nginx.sh) and stops it first.
#
#   stack/stack.sh install            install what is missing (Debian packages incl. nginx and chromium, Kafka
#                                     jars, .venv) and build the web client when its sources changed
#   stack/stack.sh up   [component…]  start (idempotent), wait until ready, migrate, create topics
#   stack/stack.sh down [component…]  stop what this stack started, in the reverse order
#   stack/stack.sh status [component…]
# Components: postgres replica redis kafka (default: all four, in this order). `postgres` is every shard's
# primary ($BOXOFFICE_PG_SHARDS of them, default 2: shard i on $BOXOFFICE_PG_PORT + 2i), `replica` every
# shard's hot standby (pg_basebackup, slot boxoffice_replica, on the next port; shard 0's on
# $BOXOFFICE_PG_REPLICA_PORT); a replica is re-created when it no longer matches its primary (slot gone,
# primary re-initialised).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/stack/env.sh"
. "$ROOT/stack/procs.sh"
mkdir -p "$BOXOFFICE_STACK_DIR"
STACK_DIR=$(cd "$BOXOFFICE_STACK_DIR" && pwd)
KAFKA_PORT=$BOXOFFICE_KAFKA_PORT
KAFKA_CONTROLLER_PORT=${BOXOFFICE_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
PG_PORT=$BOXOFFICE_PG_PORT
REPLICA_PORT=$BOXOFFICE_PG_REPLICA_PORT
SHARDS=${BOXOFFICE_PG_SHARDS:-1}
REDIS_PORT=$BOXOFFICE_REDIS_PORT
KAFKA_HEAP=${BOXOFFICE_KAFKA_HEAP:-768m}
PG_BIN=${BOXOFFICE_PG_BIN:-/usr/lib/postgresql/15/bin}
NGINX_BIN=${BOXOFFICE_NGINX_BIN:-/usr/sbin/nginx}
KAFKA_LIBS=${BOXOFFICE_KAFKA_LIBS:-$ROOT/.cache/kafka-libs}
VENV=$ROOT/.venv
READY_SECONDS=${BOXOFFICE_READY_SECONDS:-90}

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }


wait_for() {  # name logfile command...
  local name=$1 logfile=$2; shift 2
  local deadline=$((SECONDS + READY_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$logfile" >&2 2>/dev/null || true
      die "$name did not become ready within ${READY_SECONDS}s; see its log: $logfile"
    fi
    sleep 0.3
  done
}

# ---------------------------------------------------------------- install
install_debian() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15 postgresql-contrib)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  [ -x "$NGINX_BIN" ] || command -v nginx >/dev/null || missing+=(nginx)
  # The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: install them (needs root)"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" nginx "* ]]; then disable_system_nginx; fi
}

# Debian's nginx package starts a system-wide nginx on port 80 when it can; the stack runs its own.
disable_system_nginx() {
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  else
    command -v update-rc.d >/dev/null && update-rc.d nginx disable >/dev/null 2>&1 || true
    if [ -x /etc/init.d/nginx ] && [ -s /run/nginx.pid ]; then /etc/init.d/nginx stop >/dev/null 2>&1 || true; fi
  fi
  if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    kill -QUIT "$(cat /run/nginx.pid)" 2>/dev/null || true
  fi
  log "Debian's default nginx service is stopped and disabled (the stack runs its own nginx)"
}

install_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ] && cmp -s "$KAFKA_LIBS/.complete" "$ROOT/stack/kafka/pom.xml"; then
    return 0
  fi
  log "fetching Apache Kafka jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >&2
  cp "$ROOT/stack/kafka/pom.xml" "$KAFKA_LIBS/.complete"
}

install_python() {
  local stamp=$VENV/.installed
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/pyproject.toml"; then return 0; fi
  log "installing boxoffice into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q -e "$ROOT[dev]" >&2
  cp "$ROOT/pyproject.toml" "$stamp"
}

# The web client (web/): `npm ci` + `npm run build` into web/dist, which NGINX serves; only when the
# lockfile or the sources changed since the last build (a stamp holds their hash). BOXOFFICE_SKIP_WEB=1 skips it.
WEB=$ROOT/web
WEB_STAMP=$WEB/node_modules/.boxoffice-build-stamp  # not in dist/, which NGINX serves
web_sources_hash() {
  (cd "$WEB" && { printf '%s\n' package.json package-lock.json index.html vite.config.ts tsconfig.json; find src -type f; } \
     | LC_ALL=C sort | while read -r f; do [ -f "$f" ] && { printf '%s\0' "$f"; cat "$f"; }; done) | sha256sum | cut -d' ' -f1
}
install_web() {
  [ "${BOXOFFICE_SKIP_WEB:-0}" = 1 ] && return 0
  local hash; hash=$(web_sources_hash)
  if [ -f "$WEB/dist/index.html" ] && [ "$(cat "$WEB_STAMP" 2>/dev/null)" = "$hash" ]; then return 0; fi
  # Node.js comes with the machine (Debian's nodejs is too old for Vite 8).
  command -v npm >/dev/null || die "npm is missing: install Node.js >= 20.19 with npm (web/package.json engines)"
  if [ ! -d "$WEB/node_modules" ] || ! cmp -s "$WEB/package-lock.json" "$WEB/node_modules/.package-lock.json.installed"; then
    log "installing the web client's packages (npm ci in web/)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in web/"
    cp "$WEB/package-lock.json" "$WEB/node_modules/.package-lock.json.installed"
  fi
  log "building the web client (npm run build in web/ → web/dist)"
  (cd "$WEB" && npm run --silent build >&2) || die "the web client's build failed (cd web && npm run build)"
  echo "$hash" > "$WEB_STAMP"
}

cmd_install() { install_debian; install_kafka; install_python; install_web; }

# ---------------------------------------------------------------- postgres
# Shards: shard 0 is $STACK_DIR/postgres on $PG_PORT (its replica $STACK_DIR/postgres-replica on $REPLICA_PORT),
# shard i is $STACK_DIR/postgres-shard<i> on $PG_PORT + 2i (its replica postgres-shard<i>-replica, the next port).
# `use_shard i` points the functions below at one of them.
use_shard() {
  SHARD=$1
  if [ "$1" = 0 ]; then
    PG_DIR=$STACK_DIR/postgres; SHARD_PORT=$PG_PORT
    REPLICA_DIR=$STACK_DIR/postgres-replica; SHARD_REPLICA_PORT=$REPLICA_PORT
  else
    PG_DIR=$STACK_DIR/postgres-shard$1; SHARD_PORT=$((PG_PORT + 2 * $1))
    REPLICA_DIR=$STACK_DIR/postgres-shard$1-replica; SHARD_REPLICA_PORT=$((PG_PORT + 2 * $1 + 1))
  fi
}
each_shard() {  # command: run it for every shard
  local i
  for ((i = 0; i < SHARDS; i++)); do use_shard "$i"; "$@"; done
}
use_shard 0

pg_up() {
  local data=$PG_DIR/data
  mkdir -p "$PG_DIR/run" "$PG_DIR/log"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data"
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $SHARD_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 300
shared_buffers = 512MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
log_min_duration_statement = 1000
CONF
  fi
  # Streaming replication for the read replica (also added to data dirs made before the replica existed;
  # these are PostgreSQL 15's defaults, so a running primary needs no restart for them).
  if ! grep -q '^# boxoffice: replication' "$data/postgresql.conf"; then
    cat >> "$data/postgresql.conf" <<CONF
# boxoffice: replication (stack/stack.sh replica)
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = 4GB  # a replica stopped for long loses its slot (and is re-created) rather than fill the disk
CONF
  fi
  if ! grep -q '^host replication replicator 127.0.0.1/32' "$data/pg_hba.conf"; then
    echo "host replication replicator 127.0.0.1/32 trust" >> "$data/pg_hba.conf"
    as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1 && as_postgres "$PG_BIN/pg_ctl" -D "$data" reload >/dev/null
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "postgres (shard $SHARD) already running on port $SHARD_PORT"
  else
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$PG_DIR/log/postgres.log" -o "-p $SHARD_PORT" -w -t 60 start >/dev/null \
      || { tail -n 30 "$PG_DIR/log/postgres.log" >&2; die "postgres failed to start; see $PG_DIR/log/postgres.log"; }
    touch "$PG_DIR/started-by-stack"
  fi
  wait_for postgres "$PG_DIR/log/postgres.log" "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$SHARD_PORT"
  local psql=("$PG_BIN/psql" -h 127.0.0.1 -p "$SHARD_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='boxoffice'")" != 1 ]; then
    "${psql[@]}" -c "create role boxoffice login superuser" >/dev/null
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='boxoffice'")" != 1 ]; then
    "${psql[@]}" -c "create database boxoffice owner boxoffice" >/dev/null
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='replicator'")" != 1 ]; then
    "${psql[@]}" -c "create role replicator login replication" >/dev/null
  fi
}
pg_down() {
  [ -f "$PG_DIR/data/PG_VERSION" ] || return 0
  if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
    log "postgres (shard $SHARD) stopped"
  fi
}

# ---------------------------------------------------------------- replica
REPLICA_SLOT=boxoffice_replica
primary_sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$SHARD_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt -c "$1"; }
replica_sql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$SHARD_REPLICA_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt -c "$1"; }
replica_running() { as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR/data" status >/dev/null 2>&1; }
replica_ready() {
  "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$SHARD_REPLICA_PORT" && [ "$(replica_sql 'select pg_is_in_recovery()')" = t ]
}
# A replica can only resume when the primary still keeps its slot (the WAL it needs) and is the very
# cluster it was copied from; else (primary re-initialised, slot dropped) it is re-created.
replica_matches_primary() {
  local primary_id replica_id
  [ "$(primary_sql "select 1 from pg_replication_slots
                    where slot_name = '$REPLICA_SLOT' and wal_status is distinct from 'lost'")" = 1 ] || return 1
  primary_id=$(primary_sql "select system_identifier from pg_control_system()")
  replica_id=$("$PG_BIN/pg_controldata" -D "$REPLICA_DIR/data" | sed -n 's/^Database system identifier: *//p')
  [ -n "$primary_id" ] && [ "$primary_id" = "$replica_id" ]
}
replica_up() {
  local data=$REPLICA_DIR/data
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$SHARD_PORT" || die "the replica needs the primary: start postgres first (stack.sh up postgres replica)"
  mkdir -p "$REPLICA_DIR/run" "$REPLICA_DIR/log"
  if [ -f "$data/PG_VERSION" ] && ! replica_matches_primary; then
    log "the replica in $data no longer matches the primary (slot $REPLICA_SLOT gone or primary re-initialised): re-creating it"
    replica_down
    rm -rf "$data"
  fi
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$REPLICA_DIR"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    # A slot left by an earlier replica would make -C fail; nothing uses it any more.
    primary_sql "select pg_drop_replication_slot(slot_name) from pg_replication_slots
                 where slot_name = '$REPLICA_SLOT' and not active" >/dev/null
    log "creating the read replica in $data (pg_basebackup from port $SHARD_PORT, slot $REPLICA_SLOT)"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$SHARD_PORT" -U replicator -D "$data" \
        -R -X stream -C -S "$REPLICA_SLOT" --checkpoint=fast >"$REPLICA_DIR/log/basebackup.log" 2>&1 \
      || { cat "$REPLICA_DIR/log/basebackup.log" >&2; die "pg_basebackup failed; see $REPLICA_DIR/log/basebackup.log"; }
    # The copy carries the primary's postgresql.conf; later lines win. -R wrote standby.signal and
    # primary_conninfo/primary_slot_name into postgresql.auto.conf.
    cat >> "$data/postgresql.conf" <<CONF
# boxoffice: read replica (stack/stack.sh replica)
port = $SHARD_REPLICA_PORT
unix_socket_directories = '$REPLICA_DIR/run'
shared_buffers = 128MB
hot_standby = on
hot_standby_feedback = on
CONF
  fi
  if replica_running; then
    log "replica (shard $SHARD) already running on port $SHARD_REPLICA_PORT"
  else
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$REPLICA_DIR/log/postgres.log" -o "-p $SHARD_REPLICA_PORT" -w -t 60 start >/dev/null \
      || { tail -n 30 "$REPLICA_DIR/log/postgres.log" >&2; die "the replica failed to start; see $REPLICA_DIR/log/postgres.log"; }
  fi
  wait_for replica "$REPLICA_DIR/log/postgres.log" replica_ready
}
replica_down() {
  [ -f "$REPLICA_DIR/data/PG_VERSION" ] || return 0
  if replica_running; then
    as_postgres "$PG_BIN/pg_ctl" -D "$REPLICA_DIR/data" -m fast -w -t 60 stop >/dev/null
    log "replica (shard $SHARD) stopped"
  fi
}

pg_status() {
  local shard=""; [ "$SHARD" = 0 ] || shard=" shard $SHARD"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 \
    && echo "postgres$shard: running (127.0.0.1:$SHARD_PORT)" || echo "postgres$shard: stopped"
}
replica_status() {
  local shard=""; [ "$SHARD" = 0 ] || shard=" shard $SHARD"
  replica_running && echo "replica$shard: running (127.0.0.1:$SHARD_REPLICA_PORT, hot standby)" || echo "replica$shard: stopped"
}

# ---------------------------------------------------------------- redis
REDIS_DIR=$STACK_DIR/redis
redis_up() {
  mkdir -p "$REDIS_DIR"
  if pid_alive "$REDIS_DIR/redis.pid"; then log "redis already running on port $REDIS_PORT"; return 0; fi
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --appendonly yes --appendfsync everysec --save '' --protected-mode yes >/dev/null
  wait_for redis "$REDIS_DIR/redis.log" redis_ready
}
# `redis-cli ping` exits 0 on an error reply too (LOADING while the AOF loads): only PONG is ready.
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
redis_down() {
  if pid_alive "$REDIS_DIR/redis.pid"; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || kill "$(cat "$REDIS_DIR/redis.pid")"
    log "redis stopped"
  fi
}

# ---------------------------------------------------------------- kafka
KAFKA_DIR=$STACK_DIR/kafka
kafka_up() {
  mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DIR/data"
  if pid_alive "$KAFKA_DIR/kafka.pid"; then log "kafka already running on port $KAFKA_PORT"; return 0; fi
  [ -f "$KAFKA_LIBS/.complete" ] || die "kafka jars missing in $KAFKA_LIBS: run 'stack/stack.sh install'"
  cat > "$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.ms=1000
PROPS
  local java=(java "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
              -Djava.awt.headless=true "-Dkafka.logs.dir=$KAFKA_DIR/logs"
              "-Dlog4j2.configurationFile=$ROOT/stack/kafka/log4j2.properties"
              -cp "$KAFKA_LIBS/*")
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local cluster_id
    # Like Kafka's own Uuid.randomUuid(): never one starting with "-", which the tool would take for an option.
    cluster_id=$(python3 -c 'import base64,uuid
while (i := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(i)')
    log "formatting Kafka storage (cluster $cluster_id)"
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      > "$KAFKA_DIR/logs/format.log" 2>&1 || { cat "$KAFKA_DIR/logs/format.log" >&2; die "kafka storage format failed"; }
  fi
  nohup "${java[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" > "$KAFKA_DIR/logs/stdout.log" 2>&1 &
  echo $! > "$KAFKA_DIR/kafka.pid"
  wait_for kafka "$KAFKA_DIR/logs/server.log" kafka_ready
}
kafka_ready() {
  pid_alive "$KAFKA_DIR/kafka.pid" || { tail -n 30 "$KAFKA_DIR/logs/stdout.log" >&2; die "kafka exited; see $KAFKA_DIR/logs/server.log"; }
  port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_DIR/logs/server.log" 2>/dev/null
}
kafka_down() {
  if pid_alive "$KAFKA_DIR/kafka.pid"; then
    local pid; pid=$(cat "$KAFKA_DIR/kafka.pid")
    kill "$pid"
    for _ in $(seq 1 150); do running "$pid" || break; sleep 0.2; done
    running "$pid" && { log "kafka did not stop in 30s, killing"; kill -9 "$pid"; }
    rm -f "$KAFKA_DIR/kafka.pid"
    log "kafka stopped"
  fi
}

# ---------------------------------------------------------------- main
ALL_COMPONENTS="postgres replica redis kafka"
components() { if [ $# -eq 0 ]; then echo $ALL_COMPONENTS; else echo "$@"; fi; }
reversed() { local out=() c; for c in "$@"; do out=("$c" "${out[@]}"); done; echo "${out[@]}"; }
check_component() { [[ " $ALL_COMPONENTS " == *" $1 "* ]] || die "unknown component $1 (components: $ALL_COMPONENTS)"; }

export BOXOFFICE_STACK_DIR=$STACK_DIR

cmd=${1:-status}; shift || true
case $cmd in
  install) cmd_install ;;
  up)
    if [ ! -s "$STACK_DIR/auth-secret" ]; then
      (umask 077; python3 -c 'import secrets;print(secrets.token_urlsafe(32))' > "$STACK_DIR/auth-secret")
      log "generated the API signing secret in $STACK_DIR/auth-secret"
    fi
    started=()
    for c in $(components "$@"); do
      check_component "$c"
      case $c in postgres) each_shard pg_up ;; replica) each_shard replica_up ;; redis) redis_up ;; kafka) kafka_up ;; esac
      started+=("$c")
    done
    if [[ " ${started[*]} " == *" postgres "* ]]; then
      # For the CLI in a plain shell (runtime/settings.py reads it when BOXOFFICE_PG_SHARD_DSNS is unset).
      printf 'primaries=%s\nreplicas=%s\n' "$BOXOFFICE_PG_SHARD_DSNS" "$BOXOFFICE_PG_SHARD_READ_DSNS" > "$STACK_DIR/pg-shards"
      "$VENV/bin/boxoffice" migrate  # every shard's primary
    fi
    if [[ " ${started[*]} " == *" kafka "* ]]; then "$VENV/bin/boxoffice" topics --create >/dev/null; fi
    log "ready: kafka 127.0.0.1:$KAFKA_PORT  postgres $SHARDS shard(s) from 127.0.0.1:$PG_PORT (replica $REPLICA_PORT)  redis 127.0.0.1:$REDIS_PORT  (data: $STACK_DIR)"
    ;;
  down)
    for c in $(reversed $(components "$@")); do
      check_component "$c"
      case $c in postgres) each_shard pg_down ;; replica) each_shard replica_down ;; redis) redis_down ;; kafka) kafka_down ;; esac
    done ;;
  status)
    for c in $(components "$@"); do
      check_component "$c"
      case $c in
        postgres) each_shard pg_status ;;
        replica) each_shard replica_status ;;
        redis) pid_alive "$REDIS_DIR/redis.pid" && echo "redis: running (127.0.0.1:$REDIS_PORT)" || echo "redis: stopped" ;;
        kafka) pid_alive "$KAFKA_DIR/kafka.pid" && echo "kafka: running (127.0.0.1:$KAFKA_PORT)" || echo "kafka: stopped" ;;
      esac
    done ;;
  *) die "usage: stack.sh install|up|down|status [component…]" ;;
esac
