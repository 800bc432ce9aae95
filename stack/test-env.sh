# Source this to point a shell at the test stack (what `make test` uses):  . stack/test-env.sh
export BOXOFFICE_STACK_DIR=${BOXOFFICE_TEST_STACK_DIR:-$PWD/.stack-test}
export BOXOFFICE_KAFKA_PORT=${BOXOFFICE_TEST_KAFKA_PORT:-29092}
export BOXOFFICE_PG_PORT=${BOXOFFICE_TEST_PG_PORT:-25432}
export BOXOFFICE_PG_REPLICA_PORT=${BOXOFFICE_TEST_PG_REPLICA_PORT:-$((BOXOFFICE_PG_PORT + 1))}
export BOXOFFICE_REDIS_PORT=${BOXOFFICE_TEST_REDIS_PORT:-26379}
export BOXOFFICE_KAFKA_BOOTSTRAP=127.0.0.1:$BOXOFFICE_KAFKA_PORT
export BOXOFFICE_PG_DSN=postgresql://boxoffice@127.0.0.1:$BOXOFFICE_PG_PORT/boxoffice
# The test replica, unless BOXOFFICE_TEST_PG_READ_DSN says otherwise (a dev shell's BOXOFFICE_PG_READ_DSN
# points at the dev stack's replica and must not leak into the test stack).
export BOXOFFICE_PG_READ_DSN=${BOXOFFICE_TEST_PG_READ_DSN:-postgresql://boxoffice@127.0.0.1:$BOXOFFICE_PG_REPLICA_PORT/boxoffice}
export BOXOFFICE_REDIS_URL=redis://127.0.0.1:$BOXOFFICE_REDIS_PORT/0
# Two shards in the test stack too (shard i: primary BOXOFFICE_PG_PORT + 2i, replica + 1); computed here, never
# inherited from a dev shell.
export BOXOFFICE_PG_SHARDS=${BOXOFFICE_TEST_PG_SHARDS:-2}
BOXOFFICE_PG_SHARD_DSNS="" BOXOFFICE_PG_SHARD_READ_DSNS=""
for ((boxoffice_i = 0; boxoffice_i < BOXOFFICE_PG_SHARDS; boxoffice_i++)); do
  BOXOFFICE_PG_SHARD_DSNS+="${BOXOFFICE_PG_SHARD_DSNS:+,}postgresql://boxoffice@127.0.0.1:$((BOXOFFICE_PG_PORT + 2 * boxoffice_i))/boxoffice"
  BOXOFFICE_PG_SHARD_READ_DSNS+="${BOXOFFICE_PG_SHARD_READ_DSNS:+,}postgresql://boxoffice@127.0.0.1:$((BOXOFFICE_PG_PORT + 2 * boxoffice_i + 1))/boxoffice"
done
export BOXOFFICE_PG_SHARD_DSNS BOXOFFICE_PG_SHARD_READ_DSNS
unset boxoffice_i
