#!/usr/bin/env bash
# boxoffice's own processes, in the background, with pid files and logs under the stack dir.
#   stack/services.sh up     start every process not already running, wait until each is ready
#   stack/services.sh down   SIGTERM each (graceful), SIGKILL after 20 s
#   stack/services.sh status
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/stack/env.sh"
STACK_DIR=$BOXOFFICE_STACK_DIR
mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"
PY=$ROOT/.venv/bin/python
HTTP_PORT=${BOXOFFICE_HTTP_PORT:-8000}
METRICS_BASE=${BOXOFFICE_METRICS_BASE:-9101}
SMTP_PORT=${BOXOFFICE_SMTP_PORT:-10025}

# name  module  metrics-port (0 = serves its own HTTP)
SERVICES=(
  "intake intake $HTTP_PORT"
  "booking_processor booking_processor $METRICS_BASE"
  "outbox_relay booking_processor.relay_main $((METRICS_BASE + 4))"
  "projections projections $((METRICS_BASE + 1))"
  "expiry expiry $((METRICS_BASE + 2))"
  "notifier notifier $((METRICS_BASE + 3))"
  "mailsink notifier.mailsink $SMTP_PORT"
)

log() { printf '[services] %s\n' "$*" >&2; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ready_url() {  # name port -> URL to poll, or empty
  case $1 in mailsink) echo "" ;; *) echo "http://127.0.0.1:$2/readyz" ;; esac
}

start_one() {
  local name=$1 module=$2 port=$3 pidfile=$STACK_DIR/run/$1.pid
  if alive "$pidfile"; then log "$name already running"; return 0; fi
  [ -f "$ROOT/$(echo "$module" | tr . /)/__main__.py" ] || [ -f "$ROOT/$(echo "$module" | tr . /).py" ] || {
    log "$name: module $module not present, skipped"; return 0; }
  local env=(BOXOFFICE_METRICS_PORT="$port")
  [ "$name" = intake ] && env=(BOXOFFICE_HTTP_PORT="$port")
  [ "$name" = mailsink ] && env=(BOXOFFICE_SMTP_PORT="$port")
  # nohup and env exec into python, so $! is the python process itself (what `down` signals).
  (cd "$ROOT"; nohup env "${env[@]}" "$PY" -m "$module" >> "$STACK_DIR/logs/$name.log" 2>&1 & echo $! > "$pidfile")
}

wait_ready() {
  local name=$1 port=$2 pidfile=$STACK_DIR/run/$1.pid url deadline=$((SECONDS + 60))
  [ -f "$pidfile" ] || return 0
  url=$(ready_url "$name" "$port")
  until { [ -z "$url" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; } || \
        { [ -n "$url" ] && curl -fsS -o /dev/null "$url" 2>/dev/null; }; do
    alive "$pidfile" || { tail -n 20 "$STACK_DIR/logs/$name.log" >&2; log "ERROR: $name exited; see $STACK_DIR/logs/$name.log"; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "ERROR: $name not ready in 60s; see $STACK_DIR/logs/$name.log"; exit 1; }
    sleep 0.3
  done
}

stop_one() {
  local name=$1 pidfile=$STACK_DIR/run/$1.pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 20s, killing"; kill -KILL "$pid"; }
  rm -f "$pidfile"
  log "$name stopped"
}

case ${1:-status} in
  up)
    for s in "${SERVICES[@]}"; do start_one $s; done
    for s in "${SERVICES[@]}"; do set -- $s; wait_ready "$1" "$3"; done
    log "ready: API http://127.0.0.1:$HTTP_PORT  (logs: $STACK_DIR/logs)" ;;
  down)
    for ((i=${#SERVICES[@]}-1; i>=0; i--)); do set -- ${SERVICES[$i]}; stop_one "$1"; done ;;
  status)
    for s in "${SERVICES[@]}"; do set -- $s; alive "$STACK_DIR/run/$1.pid" && echo "$1: running" || echo "$1: stopped"; done ;;
  *) echo "usage: services.sh up|down|status" >&2; exit 2 ;;
esac
