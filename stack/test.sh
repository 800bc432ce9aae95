#!/usr/bin/env bash
# The whole test suite against a test stack of its own (own data dir and ports, so a running `make up`
# is not disturbed). Starts the stack if it is not running and stops it afterwards only in that case.
# Order: ruff, the web client's unit tests (Vitest, `npm test` in web/), then pytest (tests/browser drive
# Debian's Chromium against the built client, web/dist, which `make install` builds).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. "$ROOT/stack/test-env.sh"
export BOXOFFICE_PG_BIN=${BOXOFFICE_PG_BIN:-/usr/lib/postgresql/15/bin}

"$ROOT/.venv/bin/ruff" check "$ROOT" || exit 1
if [ "${BOXOFFICE_SKIP_WEB:-0}" != 1 ]; then
  (cd "$ROOT/web" && npm test --silent) || { echo "[test] the web client's unit tests failed (cd web && npm test)" >&2; exit 1; }
fi

already_running=no
status=$("$ROOT/stack/stack.sh" status 2>/dev/null) || true
case $status in *"kafka: running"*) already_running=yes ;; esac
"$ROOT/stack/stack.sh" up || { [ "$already_running" = no ] && "$ROOT/stack/stack.sh" down; exit 1; }
"$ROOT/.venv/bin/python" -m pytest "$@"
rc=$?
if [ "$already_running" = no ]; then "$ROOT/stack/stack.sh" down; fi
exit $rc
