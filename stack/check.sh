#!/usr/bin/env bash
# The fast lane (`make check`, and the first step of `make test`): everything that needs no stack, in well
# under a minute. Two lanes side by side (one per core):
#   python: ruff check, ruff format --check, mypy (scope and strictness: [tool.mypy] in pyproject.toml),
#           pytest over tests/unit and tests/api (pure code; the app in process over fakes);
#   web:    the client's type check (tsc --noEmit), its unit tests (Vitest, npm test).
# Each step's output is printed whole when it ends. Every step runs even when another failed; the last line
# names each failed step, and the exit status is 1 if any failed. BOXOFFICE_SKIP_WEB=1 skips the web lane.
# Needs .venv and web/node_modules (both from `make install`).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=$ROOT/.venv

[ -x "$VENV/bin/python" ] || { echo "[check] $VENV is missing: run 'make install'" >&2; exit 1; }
web=yes
if [ "${BOXOFFICE_SKIP_WEB:-0}" = 1 ]; then
  web=no
elif [ ! -d "$ROOT/web/node_modules" ]; then
  echo "[check] web/node_modules is missing: run 'make install' (or BOXOFFICE_SKIP_WEB=1 to skip the web lane)" >&2
  exit 1
fi

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
: > "$LOGS/failed"

step() {  # step NAME COMMAND…: run it into its own log, then print the log and the verdict in one piece
  local name=$1 start=$SECONDS verdict=ok
  shift
  local log
  log="$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' _).log"
  "$@" > "$log" 2>&1 || { verdict=FAILED; echo "$name" >> "$LOGS/failed"; }
  echo "[check] $name: $verdict ($((SECONDS - start)) s)" >> "$log"
  if command -v flock > /dev/null; then flock "$LOGS/failed" cat "$log" >&2; else cat "$log" >&2; fi
}
in_web() { (cd "$ROOT/web" && "$@"); }

python_lane() {
  step "ruff check" "$VENV/bin/ruff" check .
  step "ruff format --check" "$VENV/bin/ruff" format --check .
  step "mypy" "$VENV/bin/mypy"
  step "pytest tests/unit tests/api" "$VENV/bin/python" -m pytest tests/unit tests/api -q
}
web_lane() {
  # Incremental: what tsc learnt last time is kept in node_modules/.cache (git-ignored); a changed file, type
  # or option is checked again, the rest is not re-derived (about half the time of a cold check).
  step "tsc --noEmit (web)" in_web npx tsc --noEmit --incremental --tsBuildInfoFile node_modules/.cache/check.tsbuildinfo
  step "vitest (web: npm test)" in_web npm test --silent
}

start=$SECONDS
if [ $web = yes ]; then
  web_lane &
  web_pid=$!
fi
python_lane
[ $web = yes ] && wait "$web_pid"

if [ -s "$LOGS/failed" ]; then
  echo "[check] FAILED ($((SECONDS - start)) s): $(paste -sd, "$LOGS/failed" | sed 's/,/, /g')" >&2
  exit 1
fi
echo "[check] all passed ($((SECONDS - start)) s)" >&2
