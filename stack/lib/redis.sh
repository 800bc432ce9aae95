# Redis (sourced by stack/stack.sh). HA (the default): a primary on $REDIS_PORT, a replica on the next port and
# three sentinels on the three after it, master name $REDIS_MASTER; single: one Redis on $REDIS_PORT.
# Each server runs from a config file of its own, which the sentinels rewrite on a failover (`replicaof`), so a
# former primary that comes back stays the replica it was turned into.

REDIS_DIR=$STACK_DIR/redis
REDIS_MASTER=${BOXOFFICE_REDIS_MASTER:-boxoffice}
REDIS_SERVERS=$([ "$TOPOLOGY" = single ] && echo 1 || echo 2)
REDIS_SENTINELS=$([ "$TOPOLOGY" = single ] && echo 0 || echo 3)
# A primary that answers no sentinel for 2 s is down (when two of three agree): a failover takes ~3-5 s.
SENTINEL_DOWN_AFTER_MS=${BOXOFFICE_SENTINEL_DOWN_AFTER_MS:-2000}

redis_node_dir() { echo "$REDIS_DIR/$1"; }  # server-<i> or sentinel-<i>
redis_server_port() { echo $((REDIS_PORT + $1 - 1)); }
redis_sentinel_port() { echo $((REDIS_PORT + REDIS_SERVERS + $1 - 1)); }

# ACL users (one password each, stack_secret redis-<user>): no anonymous access anywhere. On the servers each
# service may run only the commands and touch only the keys and channels it needs (the scripts' calls are
# checked too); on the sentinels the services may only ask where the primary is. `admin` is the operators'
# (the CLI's replay and reconcile, the tests, these scripts).
REDIS_ACL_USERS="admin intake booking_processor projections replica sentinel exporter"
redis_secret() { stack_secret "redis-$1"; }
redis_server_acl() {
  # What every client needs to connect (AUTH, HELLO, PING, CLIENT SETNAME, SELECT…), without CLIENT LIST,
  # KILL, PAUSE and the other @dangerous ones; scripts by EVAL/EVALSHA and SCRIPT LOAD only (no SCRIPT FLUSH,
  # no FUNCTION).
  local base='-@all +@connection -@dangerous' scripts='+eval +evalsha +script|load +script|exists'
  # The default user keeps every right but gets a password nobody is given: a client that does not AUTH is
  # refused (NOAUTH) all the same. It cannot be `off`: Redis replays the AOF at start as the default user and
  # re-checks a transaction's ACLs at its EXEC, so with `default off` every MULTI/EXEC in the AOF (each Lua
  # script's effects) is silently dropped at a restart (redis/redis#14541, fixed after Debian's 7.0.15;
  # tests/integration/test_ride_through_restarts.py caught it).
  echo "user default on >$(redis_secret default) ~* &* +@all"
  echo "user admin on >$(redis_secret admin) ~* &* +@all"
  # Reads every read model. Writes only: its claims and rate limits, the RECEIVED records (bookings), the
  # documents of shows it accepted and the places it took on waiting lists (not the lines). It cannot touch
  # a seat set, a hold, a line, a change log or a position, nor publish a change.
  # (A script's keys must each be readable and writable through one pattern: ~, not %W~.)
  echo "user intake on >$(redis_secret intake) %R~bo:* ~bo:idem:* ~bo:rl:* ~bo:g*:booking:* ~bo:g*:show:*" \
       "~bo:g*:waitlist:{*}:* &bo:changes:* $base +@read -@dangerous $scripts +multi +exec +discard +time +set" \
       "+hset +pexpire +subscribe +unsubscribe +psubscribe +punsubscribe"
  # Where each partition's decisions stand (booking_processor/positions.py).
  echo "user booking_processor on >$(redis_secret booking_processor) ~bo:decided ~bo:decided_rate $base +hset"
  # The read models of every generation and their change notifications.
  echo "user projections on >$(redis_secret projections) ~bo:* &bo:changes:* $base +@read +@write -@dangerous" \
       "$scripts +multi +exec +discard +publish"
  echo "user replica on >$(redis_secret replica) -@all +psync +replconf +ping"
  # What a sentinel runs on the servers it watches (Redis's documentation, "Redis Sentinel": ACL).
  echo "user sentinel on >$(redis_secret sentinel) &__sentinel__:hello -@all +multi +slaveof +ping +exec" \
       "+subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill"
  echo "user exporter on >$(redis_secret exporter) $base +info +config|get +slowlog|get +slowlog|len" \
       "+latency|latest +latency|histogram +cluster|info +memory|stats"
}
redis_sentinel_acl() {
  local where='-@all +@connection -@dangerous +sentinel|get-master-addr-by-name +sentinel|masters +sentinel|master'
  where+=' +sentinel|slaves +sentinel|replicas +sentinel|sentinels'
  local u
  echo "user default off"
  echo "user admin on >$(redis_secret admin) +@all"
  echo "user sentinel on >$(redis_secret sentinel) +@all"  # the other sentinels
  for u in intake booking_processor projections; do echo "user $u on >$(redis_secret "$u") $where"; done
  echo "user exporter on >$(redis_secret exporter) $where +info +sentinel|ckquorum"
}
# redis-cli as the operators' user (the password through the environment, never the command line).
redis_cli() { REDISCLI_AUTH=$(redis_secret admin) redis-cli --no-auth-warning --user admin -h 127.0.0.1 "$@"; }

redis_server_up() {
  local i=$1 dir port
  dir=$(redis_node_dir "server-$i"); port=$(redis_server_port "$i")
  mkdir -p "$dir"
  (umask 077 && redis_server_acl > "$REDIS_DIR/users.acl.new" && mv "$REDIS_DIR/users.acl.new" "$REDIS_DIR/users.acl")
  if pid_alive "$dir/redis.pid"; then  # its users as the file now says
    log "redis $i already running on port $port"
    [ "$(redis_cli -p "$port" acl load 2>&1)" = OK ] \
      || die "redis $i (port $port) runs without the stack's users (an older stack's server): make down, then make up"
    return 0
  fi
  if [ ! -f "$dir/redis.conf" ]; then
    (umask 077; {
      echo "bind 127.0.0.1"
      echo "port $port"
      echo "dir $dir"
      echo "pidfile $dir/redis.pid"
      echo "logfile $dir/redis.log"
      echo "daemonize yes"
      echo "appendonly yes"
      echo "appendfsync everysec"
      echo 'save ""'
      echo "protected-mode yes"
      # A replica that lost its primary still answers reads (the sentinels move writers to the new primary).
      echo "replica-serve-stale-data yes"
      if [ "$i" != 1 ]; then echo "replicaof 127.0.0.1 $(redis_server_port 1)"; fi
    } > "$dir/redis.conf")
  fi
  # Users and the replication's credentials (every server: a failover turns a primary into a replica); added
  # to a config file an older stack wrote (the sentinels rewrite the rest of it).
  chmod 600 "$dir/redis.conf"
  if ! grep -q '^aclfile ' "$dir/redis.conf"; then
    sed -i '/^user /d' "$dir/redis.conf"  # users a sentinel's CONFIG REWRITE wrote there (they live in the aclfile)
    { echo "aclfile $REDIS_DIR/users.acl"; echo "masteruser replica"; echo "masterauth $(redis_secret replica)"; } >> "$dir/redis.conf"
  fi
  # umask 077: its log, and the config files it (and the sentinels) rewrite, which hold passwords.
  (umask 077; redis-server "$dir/redis.conf" >/dev/null)
}

redis_sentinel_up() {
  local i=$1 dir port
  dir=$(redis_node_dir "sentinel-$i"); port=$(redis_sentinel_port "$i")
  mkdir -p "$dir"
  if pid_alive "$dir/sentinel.pid"; then log "sentinel $i already running on port $port"; return 0; fi
  if [ ! -f "$dir/sentinel.conf" ]; then
    cat > "$dir/sentinel.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir
pidfile $dir/sentinel.pid
logfile $dir/sentinel.log
daemonize yes
sentinel resolve-hostnames no
sentinel monitor $REDIS_MASTER 127.0.0.1 $(redis_server_port 1) 2
sentinel down-after-milliseconds $REDIS_MASTER $SENTINEL_DOWN_AFTER_MS
sentinel failover-timeout $REDIS_MASTER 10000
sentinel parallel-syncs $REDIS_MASTER 1
CONF
  fi
  chmod 600 "$dir/sentinel.conf"  # before its passwords are added
  if ! grep -q '^sentinel auth-user ' "$dir/sentinel.conf"; then  # (a sentinel rewrites its users hashed)
    sed -i '/^user /d' "$dir/sentinel.conf"  # an older stack's sentinel wrote its open default user
    {
      redis_sentinel_acl
      echo "sentinel auth-user $REDIS_MASTER sentinel"
      echo "sentinel auth-pass $REDIS_MASTER $(redis_secret sentinel)"
      echo "sentinel sentinel-user sentinel"
      echo "sentinel sentinel-pass $(redis_secret sentinel)"
    } >> "$dir/sentinel.conf"
  fi
  (umask 077; redis-sentinel "$dir/sentinel.conf" >/dev/null)
}

# `redis-cli ping` exits 0 on an error reply too (LOADING while the AOF loads): only PONG is ready.
redis_port_ready() { [ "$(redis_cli -p "$1" ping 2>/dev/null)" = PONG ]; }
# The sentinels agree on a primary that answers.
redis_primary() {
  redis_cli -p "$(redis_sentinel_port 1)" sentinel get-master-addr-by-name "$REDIS_MASTER" 2>/dev/null | sed -n 2p
}
redis_ha_ready() { local p; p=$(redis_primary); [ -n "$p" ] && redis_port_ready "$p"; }

redis_up() {
  local i
  for ((i = 1; i <= REDIS_SERVERS; i++)); do redis_server_up "$i"; done
  for ((i = 1; i <= REDIS_SERVERS; i++)); do
    wait_for "redis $i" "$(redis_node_dir "server-$i")/redis.log" redis_port_ready "$(redis_server_port "$i")"
  done
  for ((i = 1; i <= REDIS_SENTINELS; i++)); do redis_sentinel_up "$i"; done
  for ((i = 1; i <= REDIS_SENTINELS; i++)); do
    wait_for "sentinel $i" "$(redis_node_dir "sentinel-$i")/sentinel.log" redis_port_ready "$(redis_sentinel_port "$i")"
  done
  if [ "$REDIS_SENTINELS" -gt 0 ]; then wait_for "redis primary" "$(redis_node_dir sentinel-1)/sentinel.log" redis_ha_ready; fi
}

redis_stop_pidfile() {  # pidfile port
  if pid_alive "$1"; then
    redis_cli -p "$2" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$1")" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$1" || break; sleep 0.1; done
  fi
}

redis_down() {
  local i
  for ((i = 1; i <= REDIS_SENTINELS; i++)); do
    redis_stop_pidfile "$(redis_node_dir "sentinel-$i")/sentinel.pid" "$(redis_sentinel_port "$i")"
  done
  for ((i = REDIS_SERVERS; i >= 1; i--)); do
    redis_stop_pidfile "$(redis_node_dir "server-$i")/redis.pid" "$(redis_server_port "$i")"
  done
  log "redis stopped"
}

redis_status() {
  local i
  for ((i = 1; i <= REDIS_SERVERS; i++)); do
    if pid_alive "$(redis_node_dir "server-$i")/redis.pid"; then echo "redis $i: running (127.0.0.1:$(redis_server_port "$i"))"
    else echo "redis $i: stopped"; fi
  done
  for ((i = 1; i <= REDIS_SENTINELS; i++)); do
    if pid_alive "$(redis_node_dir "sentinel-$i")/sentinel.pid"; then echo "sentinel $i: running (127.0.0.1:$(redis_sentinel_port "$i"))"
    else echo "sentinel $i: stopped"; fi
  done
  [ "$REDIS_SENTINELS" -eq 0 ] || echo "redis primary (sentinels): 127.0.0.1:$(redis_primary)"
}
