# Shared by stack.sh and services.sh: the local stack's ports and the client settings derived from them.
# Every value can be overridden from the environment.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export BOXOFFICE_STACK_DIR=${BOXOFFICE_STACK_DIR:-$ROOT/.stack}
export BOXOFFICE_KAFKA_PORT=${BOXOFFICE_KAFKA_PORT:-19092}
export BOXOFFICE_PG_PORT=${BOXOFFICE_PG_PORT:-15432}
export BOXOFFICE_PG_REPLICA_PORT=${BOXOFFICE_PG_REPLICA_PORT:-$((BOXOFFICE_PG_PORT + 1))}
export BOXOFFICE_REDIS_PORT=${BOXOFFICE_REDIS_PORT:-16379}
export BOXOFFICE_KAFKA_BOOTSTRAP=${BOXOFFICE_KAFKA_BOOTSTRAP:-127.0.0.1:$BOXOFFICE_KAFKA_PORT}
export BOXOFFICE_PG_DSN=${BOXOFFICE_PG_DSN:-postgresql://boxoffice@127.0.0.1:$BOXOFFICE_PG_PORT/boxoffice}
# Reads that may lag (booking history) go to the streaming replica; decisions never do.
export BOXOFFICE_PG_READ_DSN=${BOXOFFICE_PG_READ_DSN:-postgresql://boxoffice@127.0.0.1:$BOXOFFICE_PG_REPLICA_PORT/boxoffice}
export BOXOFFICE_REDIS_URL=${BOXOFFICE_REDIS_URL:-redis://127.0.0.1:$BOXOFFICE_REDIS_PORT/0}
# The public port (NGINX) and the intake instances behind it.
export BOXOFFICE_HTTP_PORT=${BOXOFFICE_HTTP_PORT:-8000}
export BOXOFFICE_INTAKE_INSTANCES=${BOXOFFICE_INTAKE_INSTANCES:-2}
export BOXOFFICE_INTAKE_BASE_PORT=${BOXOFFICE_INTAKE_BASE_PORT:-$((BOXOFFICE_HTTP_PORT + 1))}
# PostgreSQL shards: shard i's primary on BOXOFFICE_PG_PORT + 2i, its replica on the next port (shard 0 is the
# primary above, which also holds the catalog: the shard map).
export BOXOFFICE_PG_SHARDS=${BOXOFFICE_PG_SHARDS:-2}
boxoffice_shard_dsns() {  # base-port offset (0 = primaries, 1 = replicas)
  local i out=""
  for ((i = 0; i < BOXOFFICE_PG_SHARDS; i++)); do
    out+="${out:+,}postgresql://boxoffice@127.0.0.1:$((BOXOFFICE_PG_PORT + 2 * i + $1))/boxoffice"
  done
  echo "$out"
}
export BOXOFFICE_PG_SHARD_DSNS=${BOXOFFICE_PG_SHARD_DSNS:-$(boxoffice_shard_dsns 0)}
export BOXOFFICE_PG_SHARD_READ_DSNS=${BOXOFFICE_PG_SHARD_READ_DSNS:-$(boxoffice_shard_dsns 1)}
