# Prometheus and the maintained exporters (sourced by stack/stack.sh): Debian's prometheus scraping every
# boxoffice process, NGINX (its exporter is started by services.sh beside NGINX), PostgreSQL (Patroni's own
# /metrics and prometheus-postgres-exporter), Redis and its sentinels (prometheus-redis-exporter), etcd, and Kafka
# (the JMX exporter java agent inside each broker). Alerting rules: stack/prometheus/rules.yml.

PROMETHEUS_PORT=$BOXOFFICE_PROMETHEUS_PORT
PROM_DIR=$STACK_DIR/prometheus
PG_EXPORTER_PORT=$((PROMETHEUS_PORT + 1))
REDIS_EXPORTER_PORT=$((PROMETHEUS_PORT + 2))
KAFKA_JMX_BASE=$((PROMETHEUS_PORT + 3))
METRICS_BASE=$BOXOFFICE_METRICS_BASE

prometheus_config() {
  local targets
  _list() { local out="" t; for t in "$@"; do out+="${out:+, }'$t'"; done; echo "[$out]"; }
  local kafka=() patroni=() etcd=() redis=() services=() i s n
  for ((i = 0; i < KAFKA_NODES; i++)); do kafka+=("127.0.0.1:$((KAFKA_JMX_BASE + i))"); done
  for ((s = 0; s < SHARDS; s++)); do for ((n = 0; n < PG_NODES; n++)); do patroni+=("127.0.0.1:$(patroni_port "$s" "$n")"); done; done
  for ((i = 1; i <= ETCD_MEMBERS; i++)); do etcd+=("127.0.0.1:$((ETCD_PORT + 40 + i))"); done
  for ((i = 1; i <= REDIS_SERVERS; i++)); do redis+=("redis://127.0.0.1:$(redis_server_port "$i")"); done
  for ((i = 1; i <= REDIS_SENTINELS; i++)); do redis+=("redis://127.0.0.1:$(redis_sentinel_port "$i")"); done
  # The workers (services.sh's ports) and the intake instances (their /metrics on the API port).
  for ((i = 0; i < 5; i++)); do services+=("127.0.0.1:$((METRICS_BASE + i))"); done
  for ((i = 0; i < BOXOFFICE_INTAKE_INSTANCES; i++)); do services+=("127.0.0.1:$((BOXOFFICE_INTAKE_BASE_PORT + i))"); done
  cat <<YAML
# Rendered by stack/lib/monitoring.sh; do not edit.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: ['$ROOT/stack/prometheus/rules.yml']
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['127.0.0.1:$PROMETHEUS_PORT']}]
  - job_name: boxoffice
    static_configs: [{targets: $(_list "${services[@]}")}]
  - job_name: nginx
    static_configs: [{targets: ['127.0.0.1:$((METRICS_BASE + 5))']}]
  - job_name: kafka
    static_configs: [{targets: $(_list "${kafka[@]}")}]
  - job_name: patroni
    static_configs: [{targets: $(_list "${patroni[@]}")}]
  - job_name: postgres
    static_configs: [{targets: ['127.0.0.1:$PG_EXPORTER_PORT']}]
  - job_name: etcd
    static_configs: [{targets: $(_list "${etcd[@]}")}]
  - job_name: redis
    metrics_path: /scrape
    static_configs: [{targets: $(_list "${redis[@]}")}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '127.0.0.1:$REDIS_EXPORTER_PORT'}
YAML
}

monitoring_up() {
  mkdir -p "$PROM_DIR/data"
  prometheus_config > "$PROM_DIR/prometheus.yml"
  promtool check config "$PROM_DIR/prometheus.yml" >/dev/null || die "invalid $PROM_DIR/prometheus.yml"
  if pid_alive "$PROM_DIR/prometheus.pid"; then
    kill -HUP "$(cat "$PROM_DIR/prometheus.pid")"  # picks up a changed config
  else
    nohup prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
      --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
      --web.enable-lifecycle > "$PROM_DIR/prometheus.log" 2>&1 &
    echo $! > "$PROM_DIR/prometheus.pid"
  fi
  if ! pid_alive "$PROM_DIR/pg-exporter.pid"; then
    local dsns="" s n
    for ((s = 0; s < SHARDS; s++)); do
      for ((n = 0; n < PG_NODES; n++)); do
        dsns+="${dsns:+,}postgresql://boxoffice_monitor:$(pg_secret boxoffice_monitor)@127.0.0.1:$(pg_node_port "$s" "$n")/postgres?sslmode=disable"
      done
    done
    # Every node through one exporter (its legacy per-server collectors; the newer database and bgwriter
    # collectors of 0.11 take one server only and would repeat their series), as the monitoring role
    # (pg_monitor), its password in this process's environment only, never on a command line.
    DATA_SOURCE_NAME=$dsns nohup prometheus-postgres-exporter --web.listen-address="127.0.0.1:$PG_EXPORTER_PORT" \
      --extend.query-path="$ROOT/stack/prometheus/postgres-queries.yml" --disable-settings-metrics \
      --no-collector.database --no-collector.bgwriter \
      > "$PROM_DIR/pg-exporter.log" 2>&1 &
    echo $! > "$PROM_DIR/pg-exporter.pid"
  fi
  if ! pid_alive "$PROM_DIR/redis-exporter.pid"; then
    # Its ACL user's password through the environment (not its command line, which every process can read).
    REDIS_USER=exporter REDIS_PASSWORD=$(redis_secret exporter) nohup prometheus-redis-exporter -web.listen-address "127.0.0.1:$REDIS_EXPORTER_PORT" \
      -redis.addr "" > "$PROM_DIR/redis-exporter.log" 2>&1 &
    echo $! > "$PROM_DIR/redis-exporter.pid"
  fi
  wait_for prometheus "$PROM_DIR/prometheus.log" curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

monitoring_down() {
  local f pid
  for f in prometheus pg-exporter redis-exporter; do
    if pid_alive "$PROM_DIR/$f.pid"; then
      pid=$(cat "$PROM_DIR/$f.pid"); kill -TERM "$pid"
      for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    fi
    rm -f "$PROM_DIR/$f.pid"
  done
  log "prometheus and its exporters stopped"
}

monitoring_status() {
  local f
  for f in prometheus pg-exporter redis-exporter; do
    if pid_alive "$PROM_DIR/$f.pid"; then echo "$f: running"; else echo "$f: stopped"; fi
  done
  echo "prometheus: http://127.0.0.1:$PROMETHEUS_PORT"
}
