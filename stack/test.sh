#!/usr/bin/env bash
# The whole test suite against a test stack of its own (own data dir and ports, so a running `make up`
# is not disturbed). Starts the stack if it is not running and stops it afterwards only in that case.
# Order: the fast lane first (stack/check.sh, what `make check` runs: ruff, mypy, tsc, the unit and in-process
# API tests, the web client's unit tests), then pytest (tests/browser drive Debian's Chromium against the built
# client, web/dist, which `make install` builds).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. "$ROOT/stack/test-env.sh"
export BOXOFFICE_PG_BIN=${BOXOFFICE_PG_BIN:-/usr/lib/postgresql/15/bin}

"$ROOT/stack/check.sh" || { echo "[test] the fast lane failed (make check): no stack started" >&2; exit 1; }

already_running=no
status=$("$ROOT/stack/stack.sh" status 2>/dev/null) || true
case $status in *"kafka: running"*) already_running=yes ;; esac
"$ROOT/stack/stack.sh" up || { [ "$already_running" = no ] && "$ROOT/stack/stack.sh" down; exit 1; }
# tests/unit and tests/api passed in the fast lane already: without arguments, pytest runs the rest.
if [ $# -eq 0 ]; then set -- --ignore=tests/unit --ignore=tests/api; fi
"$ROOT/.venv/bin/python" -m pytest "$@"
rc=$?
if [ "$already_running" = no ]; then "$ROOT/stack/stack.sh" down; fi
exit $rc
