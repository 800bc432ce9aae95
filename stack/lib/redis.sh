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

redis_server_up() {
  local i=$1 dir port
  dir=$(redis_node_dir "server-$i"); port=$(redis_server_port "$i")
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid"; then log "redis $i already running on port $port"; return 0; fi
  if [ ! -f "$dir/redis.conf" ]; then
    {
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
    } > "$dir/redis.conf"
  fi
  redis-server "$dir/redis.conf" >/dev/null
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
  redis-sentinel "$dir/sentinel.conf" >/dev/null
}

# `redis-cli ping` exits 0 on an error reply too (LOADING while the AOF loads): only PONG is ready.
redis_port_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }
# The sentinels agree on a primary that answers.
redis_primary() {
  redis-cli -h 127.0.0.1 -p "$(redis_sentinel_port 1)" sentinel get-master-addr-by-name "$REDIS_MASTER" 2>/dev/null | sed -n 2p
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
    redis-cli -h 127.0.0.1 -p "$2" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$1")" 2>/dev/null || true
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
