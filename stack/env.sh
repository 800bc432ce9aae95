# Shared by stack.sh, services.sh and nginx.sh: the local stack's ports and the client settings derived from them.
# Every value can be overridden from the environment. stack/test-env.sh sets the test stack's base ports and
# sources this file for the rest.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export BOXOFFICE_STACK_DIR=${BOXOFFICE_STACK_DIR:-$ROOT/.stack}
# ha (default): what production runs, every engine able to lose a server; single: one process per engine.
export BOXOFFICE_TOPOLOGY=${BOXOFFICE_TOPOLOGY:-ha}
case $BOXOFFICE_TOPOLOGY in
  ha) boxoffice_kafka_nodes=3 boxoffice_pg_nodes=2 ;;
  single) boxoffice_kafka_nodes=1 boxoffice_pg_nodes=1 ;;
  *) echo "BOXOFFICE_TOPOLOGY must be 'ha' or 'single', not '$BOXOFFICE_TOPOLOGY'" >&2; return 2 2>/dev/null || exit 2 ;;
esac
# Base ports. Kafka node i: $KAFKA_PORT + 2(i-1) (its controller the next); PostgreSQL shard s, node n:
# $PG_PORT + 2s + n (Patroni's REST API: $PATRONI_PORT + 2s + n); etcd member i: $ETCD_PORT + 2(i-1);
# Redis: primary $REDIS_PORT, replica +1, sentinels +2..+4.
export BOXOFFICE_KAFKA_PORT=${BOXOFFICE_KAFKA_PORT:-19092}
export BOXOFFICE_PG_PORT=${BOXOFFICE_PG_PORT:-15432}
export BOXOFFICE_PATRONI_PORT=${BOXOFFICE_PATRONI_PORT:-18008}
export BOXOFFICE_ETCD_PORT=${BOXOFFICE_ETCD_PORT:-12379}
export BOXOFFICE_REDIS_PORT=${BOXOFFICE_REDIS_PORT:-16379}
export BOXOFFICE_PG_SHARDS=${BOXOFFICE_PG_SHARDS:-2}
# Prometheus on $PROMETHEUS_PORT, its exporters on the next ports (PostgreSQL +1, Redis +2, Kafka's JMX agents
# +3..+5); the boxoffice workers' health/metrics ports from $METRICS_BASE (services.sh).
export BOXOFFICE_PROMETHEUS_PORT=${BOXOFFICE_PROMETHEUS_PORT:-9090}
export BOXOFFICE_METRICS_BASE=${BOXOFFICE_METRICS_BASE:-9101}

boxoffice_kafka_bootstrap() {
  local i out=""
  for ((i = 0; i < boxoffice_kafka_nodes; i++)); do out+="${out:+,}127.0.0.1:$((BOXOFFICE_KAFKA_PORT + 2 * i))"; done
  echo "$out"
}
# Shard s's DSN: every node of the shard (libpq-style multi-host), and which of them to take: read-write (the
# primary, wherever it is now) for writers, prefer-standby for history reads.
boxoffice_shard_dsn() {  # shard target_session_attrs
  local n hosts=""
  for ((n = 0; n < boxoffice_pg_nodes; n++)); do hosts+="${hosts:+,}127.0.0.1:$((BOXOFFICE_PG_PORT + 2 * $1 + n))"; done
  echo "postgresql://boxoffice@$hosts/boxoffice?target_session_attrs=$2"
}
boxoffice_shard_dsns() {  # target_session_attrs; the shards' DSNs, space-separated
  local s out=""
  for ((s = 0; s < BOXOFFICE_PG_SHARDS; s++)); do out+="${out:+ }$(boxoffice_shard_dsn "$s" "$1")"; done
  echo "$out"
}
export BOXOFFICE_KAFKA_BOOTSTRAP=${BOXOFFICE_KAFKA_BOOTSTRAP:-$(boxoffice_kafka_bootstrap)}
# Shard 0 also holds the catalog (the shard map). Reads that may lag (booking history) prefer a standby;
# decisions never do.
export BOXOFFICE_PG_DSN=${BOXOFFICE_PG_DSN:-$(boxoffice_shard_dsn 0 read-write)}
export BOXOFFICE_PG_READ_DSN=${BOXOFFICE_PG_READ_DSN:-$(boxoffice_shard_dsn 0 prefer-standby)}
export BOXOFFICE_PG_SHARD_DSNS=${BOXOFFICE_PG_SHARD_DSNS:-$(boxoffice_shard_dsns read-write)}
export BOXOFFICE_PG_SHARD_READ_DSNS=${BOXOFFICE_PG_SHARD_READ_DSNS:-$(boxoffice_shard_dsns prefer-standby)}
# PostgreSQL's passwords (stack/lib/postgres.sh writes the file; the settings find it there by themselves):
# for libpq programs (psql, pgbench) and the tests' own connections. One set by the caller wins (processes
# of another stack dir against these engines).
export PGPASSFILE=${PGPASSFILE:-$BOXOFFICE_STACK_DIR/secrets/pgpass}
# Redis's and Kafka's users' passwords (stack/lib/{redis,kafka}.sh write them; the same rule as PGPASSFILE).
export BOXOFFICE_SECRETS_DIR=${BOXOFFICE_SECRETS_DIR:-$BOXOFFICE_STACK_DIR/secrets}
export BOXOFFICE_REDIS_URL=${BOXOFFICE_REDIS_URL:-redis://127.0.0.1:$BOXOFFICE_REDIS_PORT/0}
if [ "$BOXOFFICE_TOPOLOGY" = ha ]; then
  # Clients ask the sentinels where the primary is (the URL above is then only its first address).
  export BOXOFFICE_REDIS_SENTINELS=${BOXOFFICE_REDIS_SENTINELS:-127.0.0.1:$((BOXOFFICE_REDIS_PORT + 2)),127.0.0.1:$((BOXOFFICE_REDIS_PORT + 3)),127.0.0.1:$((BOXOFFICE_REDIS_PORT + 4))}
  export BOXOFFICE_REDIS_MASTER=${BOXOFFICE_REDIS_MASTER:-boxoffice}
fi
# The public port (NGINX) and the intake instances behind it.
export BOXOFFICE_HTTP_PORT=${BOXOFFICE_HTTP_PORT:-8000}
# NGINX's operators' listener (stub_status for its exporter), never the public port.
export BOXOFFICE_NGINX_OPS_PORT=${BOXOFFICE_NGINX_OPS_PORT:-$((BOXOFFICE_HTTP_PORT + 100))}
export BOXOFFICE_INTAKE_INSTANCES=${BOXOFFICE_INTAKE_INSTANCES:-2}
export BOXOFFICE_INTAKE_BASE_PORT=${BOXOFFICE_INTAKE_BASE_PORT:-$((BOXOFFICE_HTTP_PORT + 1))}
# The payment provider: the development one (payments/devprovider.py, services.sh's `devpay`) on the workers'
# port range, its webhooks to the public port, and the buyer sent back to the web client there.
export BOXOFFICE_PAYMENT_API_URL=${BOXOFFICE_PAYMENT_API_URL:-http://127.0.0.1:$((BOXOFFICE_METRICS_BASE + 6))}
export BOXOFFICE_PUBLIC_URL=${BOXOFFICE_PUBLIC_URL:-http://127.0.0.1:$BOXOFFICE_HTTP_PORT}
export BOXOFFICE_PAYMENT_WEBHOOK_URL=${BOXOFFICE_PAYMENT_WEBHOOK_URL:-$BOXOFFICE_PUBLIC_URL/v1/payments/webhook/dev}
