#!/usr/bin/env bash
# The whole test suite against a test stack of its own (own data dir and ports, so a running `make up`
# is not disturbed). Starts the stack if it is not running and stops it afterwards only in that case.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BOXOFFICE_STACK_DIR=${BOXOFFICE_TEST_STACK_DIR:-$ROOT/.stack-test}
export BOXOFFICE_KAFKA_PORT=${BOXOFFICE_TEST_KAFKA_PORT:-29092}
export BOXOFFICE_PG_PORT=${BOXOFFICE_TEST_PG_PORT:-25432}
export BOXOFFICE_REDIS_PORT=${BOXOFFICE_TEST_REDIS_PORT:-26379}
export BOXOFFICE_KAFKA_BOOTSTRAP=127.0.0.1:$BOXOFFICE_KAFKA_PORT
export BOXOFFICE_PG_DSN=postgresql://boxoffice@127.0.0.1:$BOXOFFICE_PG_PORT/boxoffice
export BOXOFFICE_REDIS_URL=redis://127.0.0.1:$BOXOFFICE_REDIS_PORT/0
export BOXOFFICE_PG_BIN=${BOXOFFICE_PG_BIN:-/usr/lib/postgresql/15/bin}

already_running=no
if "$ROOT/stack/stack.sh" status 2>/dev/null | grep -q "kafka: running"; then already_running=yes; fi
"$ROOT/stack/stack.sh" up || exit 1
"$ROOT/.venv/bin/python" -m pytest "$@"
rc=$?
if [ "$already_running" = no ]; then "$ROOT/stack/stack.sh" down; fi
exit $rc
