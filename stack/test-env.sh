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
