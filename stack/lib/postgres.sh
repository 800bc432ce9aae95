# PostgreSQL shards under Patroni, with etcd as the consensus store (sourced by stack/stack.sh).
#
# etcd: $ETCD_MEMBERS members (3 in HA, 1 single), member i's client port $ETCD_PORT + 2(i-1), peer port the next.
# Shard s: a Patroni cluster (scope boxoffice-shard<s>) of $PG_NODES nodes (2 in HA: a primary and a synchronous
# standby; 1 single). Node n (0-based) of shard s listens on $PG_PORT + 2s + n, its REST API on
# $PATRONI_PORT + 2s + n, its data in $STACK_DIR/pg-shard<s>-<n>. Writers connect to every node of the shard
# with target_session_attrs=read-write (whichever is primary now), history readers with prefer-standby.
# Failover: Patroni's leader key lives TTL seconds; a primary whose node is lost is replaced by its synchronous
# standby within about TTL + loop_wait; a former primary that comes back rewinds (pg_rewind) and follows.

ETCD_MEMBERS=$([ "$TOPOLOGY" = single ] && echo 1 || echo 3)
PG_NODES=$([ "$TOPOLOGY" = single ] && echo 1 || echo 2)
PATRONI_TTL=${BOXOFFICE_PATRONI_TTL:-10}
PATRONI_LOOP_WAIT=${BOXOFFICE_PATRONI_LOOP_WAIT:-2}
PATRONI_RETRY_TIMEOUT=${BOXOFFICE_PATRONI_RETRY_TIMEOUT:-4}
PATRONI_BIN=${BOXOFFICE_PATRONI_BIN:-/usr/bin/patroni}

etcd_dir() { echo "$STACK_DIR/etcd-$1"; }
etcd_client_port() { echo $((ETCD_PORT + 2 * ($1 - 1))); }
etcd_hosts() {
  local i out=""
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do out+="${out:+,}127.0.0.1:$(etcd_client_port "$i")"; done
  echo "$out"
}
etcd_initial_cluster() {
  local i out=""
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do out+="${out:+,}etcd$i=http://127.0.0.1:$(($(etcd_client_port "$i") + 1))"; done
  echo "$out"
}

etcd_member_up() {
  local i=$1 dir client; dir=$(etcd_dir "$i"); client=$(etcd_client_port "$i")
  mkdir -p "$dir"
  if pid_alive "$dir/etcd.pid"; then log "etcd $i already running on port $client"; return 0; fi
  local state=new; [ -d "$dir/data/member" ] && state=existing
  local mask; mask=$(umask); umask 027  # its log 0640
  nohup etcd --name "etcd$i" --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$((client + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((client + 1))" \
    --initial-cluster "$(etcd_initial_cluster)" --initial-cluster-state "$state" \
    --initial-cluster-token "boxoffice-$(basename "$STACK_DIR")" \
    --heartbeat-interval 100 --election-timeout 1000 --quota-backend-bytes 268435456 \
    --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT + 40 + i))" \
    > "$dir/etcd.log" 2>&1 &
  echo $! > "$dir/etcd.pid"
  umask "$mask"
}
etcd_member_ready() { curl -fsS "http://127.0.0.1:$(etcd_client_port "$1")/health" 2>/dev/null | grep -q '"health":"true"'; }
etcd_up() {
  local i
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do etcd_member_up "$i"; done
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do wait_for "etcd $i" "$(etcd_dir "$i")/etcd.log" etcd_member_ready "$i"; done
}
etcd_down() {
  local i dir
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do
    dir=$(etcd_dir "$i")
    if pid_alive "$dir/etcd.pid"; then kill "$(cat "$dir/etcd.pid")"; fi
  done
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do
    dir=$(etcd_dir "$i")
    for _ in $(seq 1 50); do pid_alive "$dir/etcd.pid" || break; sleep 0.1; done
    rm -f "$dir/etcd.pid"
  done
  log "etcd stopped"
}

pg_node_dir() { echo "$STACK_DIR/pg-shard$1-$2"; }
pg_node_port() { echo $((PG_PORT + 2 * $1 + $2)); }
patroni_port() { echo $((PATRONI_PORT + 2 * $1 + $2)); }

patroni_config() {  # shard node
  local s=$1 n=$2 dir port
  dir=$(pg_node_dir "$s" "$n"); port=$(pg_node_port "$s" "$n")
  cat <<YAML
# Rendered by stack/lib/postgres.sh; do not edit.
scope: boxoffice-shard$s
namespace: /boxoffice/
name: shard$s-node$n
log:
  level: INFO
  dir: $dir/log
  file_size: 10485760
  file_num: 3
restapi:
  listen: 127.0.0.1:$(patroni_port "$s" "$n")
  connect_address: 127.0.0.1:$(patroni_port "$s" "$n")
etcd3:
  hosts: $(etcd_hosts)
bootstrap:
  dcs:
    ttl: $PATRONI_TTL
    loop_wait: $PATRONI_LOOP_WAIT
    retry_timeout: $PATRONI_RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    # The standby confirms every commit before it is acknowledged, so a failover never loses a committed
    # decision that the relay may already have published (docs/DESIGN-NOTES.md, "What each failure costs").
    synchronous_mode: $([ "$PG_NODES" -ge 2 ] && echo true || echo false)
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 300
        shared_buffers: $([ "$PG_NODES" -ge 2 ] && echo 256MB || echo 512MB)
        wal_buffers: 16MB
        max_wal_size: 2GB
        checkpoint_timeout: 15min
        wal_level: replica
        wal_log_hints: "on"
        hot_standby: "on"
        hot_standby_feedback: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_slot_wal_keep_size: 4GB
        log_min_duration_statement: 1000
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth-local: trust
    - auth-host: scram-sha-256
postgresql:
  listen: 127.0.0.1:$port
  connect_address: 127.0.0.1:$port
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  # Every TCP connection proves its password (SCRAM). Only Patroni and the stack's scripts, through the node's
  # own socket directory ($dir/run, mode 0700, its OS user's), connect as the superuser without one.
  pg_hba:
    - local all postgres trust
    - local all all scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
  use_unix_socket: true
  # A new standby's copy starts from an immediate checkpoint: pg_basebackup's default spreads it over
  # checkpoint_timeout's pace (93 s on a fresh stack here, past `up`'s 90 s for a shard to be ready).
  basebackup:
    - checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: $(pg_secret postgres)
    replication:
      username: replicator
      password: $(pg_secret replicator)
    rewind:
      username: postgres
      password: $(pg_secret postgres)
  parameters:
    unix_socket_directories: $dir/run
    password_encryption: scram-sha-256
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
YAML
}

patroni_node_up() {  # shard node
  local s=$1 n=$2 dir; dir=$(pg_node_dir "$s" "$n")
  mkdir -p "$dir/log" "$dir/run"
  chmod 700 "$dir" "$dir/run"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
  if pid_alive "$dir/patroni.pid"; then
    # A changed configuration (pg_hba, passwords) is reloaded in place: Patroni rewrites pg_hba.conf on SIGHUP.
    pg_secrets
    if ! patroni_config "$s" "$n" | cmp -s - "$dir/patroni.yml"; then
      (umask 077; patroni_config "$s" "$n" > "$dir/patroni.yml")
      if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/patroni.yml"; fi
      kill -HUP "$(cat "$dir/patroni.pid")"
      log "patroni shard $s node $n already running: configuration reloaded"
    else
      log "patroni shard $s node $n already running"
    fi
    return 0
  fi
  # A postgres left by a SIGKILLed Patroni keeps the port and the data directory: end it, Patroni restarts it.
  if [ -s "$dir/data/postmaster.pid" ]; then
    local pm; pm=$(head -n 1 "$dir/data/postmaster.pid")
    if running "$pm" && [ "$(cat "/proc/$pm/comm" 2>/dev/null)" = postgres ]; then
      log "ending the postgres (pid $pm) a lost Patroni left behind in $dir"
      kill -QUIT "$pm" 2>/dev/null || true
      for _ in $(seq 1 50); do running "$pm" || break; sleep 0.1; done
    fi
  fi
  pg_secrets
  (umask 077; patroni_config "$s" "$n" > "$dir/patroni.yml")  # it holds the superuser's password
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir/patroni.yml"; fi
  # The pid file is written by the process that becomes Patroni (exec), not taken from $!: as root, $! would be
  # runuser's, which stays between us and Patroni, and a signal to it would not reach Patroni.
  rm -f "$dir/patroni.pid"
  as_postgres nohup bash -c 'echo $$ > "$1"; exec "$2" "$3"' patroni "$dir/patroni.pid" "$PATRONI_BIN" \
    "$dir/patroni.yml" > "$dir/log/patroni.out" 2>&1 &
  for _ in $(seq 1 50); do [ -s "$dir/patroni.pid" ] && break; sleep 0.1; done
}

# What a node's REST API says of it (JSON), and its role there: primary, replica, or nothing when it does not
# answer. (Patroni 3.0 calls a primary "master".)
patroni_node_state() { curl -fsS -m 2 "http://127.0.0.1:$(patroni_port "$1" "$2")/patroni" 2>/dev/null; }
patroni_node_role() {
  patroni_node_state "$1" "$2" | python3 -c 'import json,sys
try: s = json.load(sys.stdin)
except ValueError: sys.exit(0)
if s.get("state") == "running": print({"master": "primary"}.get(s.get("role"), s.get("role")))' 2>/dev/null
}
# The shard has one primary that takes writes, and (HA) a synchronous standby streaming from it.
shard_ready() {
  local s=$1 port n
  port=$(shard_primary_port "$s") || return 1
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" || return 1
  [ "$PG_NODES" -ge 2 ] || return 0
  for ((n = 0; n < PG_NODES; n++)); do
    [ "$(pg_node_port "$s" "$n")" = "$port" ] || continue
    patroni_node_state "$s" "$n" | python3 -c 'import json,sys
s = json.load(sys.stdin)
sys.exit(0 if any(r.get("state") == "streaming" and r.get("sync_state") == "sync" for r in s.get("replication", [])) else 1)'
    return
  done
  return 1
}
shard_primary_up() { local port; port=$(shard_primary_port "$1") && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; }
shard_primary_port() {  # the port of the node that is primary now (fails when none is)
  local n
  for ((n = 0; n < PG_NODES; n++)); do
    if [ "$(patroni_node_role "$1" "$n")" = primary ]; then pg_node_port "$1" "$n"; return 0; fi
  done
  return 1
}

pg_up() {
  etcd_up
  pg_secrets
  local s n
  for ((s = 0; s < SHARDS; s++)); do
    for ((n = 0; n < PG_NODES; n++)); do patroni_node_up "$s" "$n"; done
  done
  for ((s = 0; s < SHARDS; s++)); do
    # The roles' passwords first: a standby of an older stack (trust) streams once the replicator has one.
    wait_for "postgres shard $s primary" "$(pg_node_dir "$s" 0)/log/patroni.log" shard_primary_up "$s"
    pg_prepare "$s"
    wait_for "postgres shard $s" "$(pg_node_dir "$s" 0)/log/patroni.log" shard_ready "$s"
  done
}

# The roles' passwords (stack_secret, stack/stack.sh) and the libpq password file the services and tools read
# (BOXOFFICE_PG_PASSFILE: their roles only).
pg_secret() { stack_secret "pg-$1"; }  # role: its password
pg_secrets() {
  local role lines=""
  for role in boxoffice boxoffice_owner boxoffice_monitor; do lines+="127.0.0.1:*:*:$role:$(pg_secret "$role")"$'\n'; done
  pg_secret postgres >/dev/null && pg_secret replicator >/dev/null
  (umask 077 && printf '%s' "$lines" > "$SECRETS_DIR/pgpass.new" && mv "$SECRETS_DIR/pgpass.new" "$SECRETS_DIR/pgpass")
}

# Least privilege (stack/postgres/roles.sql, privileges.sql), made on the primary (they replicate to the
# standby) through its own socket as the superuser; the passwords go to psql on stdin. Idempotent: every `up`.
pg_prepare() {
  local port node socket
  port=$(shard_primary_port "$1")
  node=$((port - PG_PORT - 2 * $1)); socket="$(pg_node_dir "$1" "$node")/run"
  local psql=(as_postgres "$PG_BIN/psql" -h "$socket" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
  {
    echo "ALTER ROLE postgres PASSWORD '$(pg_secret postgres)';"
    echo "ALTER ROLE replicator PASSWORD '$(pg_secret replicator)';"
    echo "\\set owner_password '$(pg_secret boxoffice_owner)'"
    echo "\\set app_password '$(pg_secret boxoffice)'"
    echo "\\set monitor_password '$(pg_secret boxoffice_monitor)'"
    cat "$ROOT/stack/postgres/roles.sql"
  } | "${psql[@]}" -d postgres >/dev/null
  "${psql[@]}" -d boxoffice --single-transaction < "$ROOT/stack/postgres/privileges.sql" >/dev/null
}

patroni_node_down() {  # shard node
  local dir pid; dir=$(pg_node_dir "$1" "$2")
  pid_alive "$dir/patroni.pid" || { rm -f "$dir/patroni.pid"; return 0; }
  pid=$(cat "$dir/patroni.pid")
  kill -TERM "$pid"  # Patroni stops postgres (fast) and, as leader, gives the lock up
  for _ in $(seq 1 300); do running "$pid" || break; sleep 0.2; done
  running "$pid" && { log "patroni shard $1 node $2 did not stop in 60s, killing"; kill -KILL "$pid"; }
  rm -f "$dir/patroni.pid"
}

pg_down() {
  local s n
  # Standbys first, then primaries: a primary stopping first would hand its role over needlessly.
  for ((s = 0; s < SHARDS; s++)); do
    for ((n = PG_NODES - 1; n >= 0; n--)); do
      if [ "$(shard_primary_port "$s")" != "$(pg_node_port "$s" "$n")" ]; then patroni_node_down "$s" "$n" & fi
    done
  done
  wait
  for ((s = 0; s < SHARDS; s++)); do
    for ((n = 0; n < PG_NODES; n++)); do patroni_node_down "$s" "$n" & done
  done
  wait
  log "postgres stopped"
  etcd_down
}

pg_status() {
  local s n state
  for ((s = 0; s < SHARDS; s++)); do
    for ((n = 0; n < PG_NODES; n++)); do
      state=$(patroni_node_role "$s" "$n")
      echo "postgres shard $s node $n: ${state:-stopped} (127.0.0.1:$(pg_node_port "$s" "$n"))"
    done
  done
}
