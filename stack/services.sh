#!/usr/bin/env bash
# boxoffice's own processes, in the background, with pid files and logs under the stack dir, and NGINX
# in front of the intake instances (stack/nginx.sh; NGINX is started here, not by stack.sh, because it
# fronts these processes).
#   stack/services.sh up        start every process not already running, wait until each is ready, then NGINX
#   stack/services.sh down      NGINX first (graceful SIGQUIT), then SIGTERM each process, SIGKILL after 20 s
#   stack/services.sh status    one line per process, NGINX included
#   stack/services.sh list      "name module port" per process (what compose.yaml must mirror)
#   stack/services.sh topology  the ports of the whole stack
# $BOXOFFICE_INTAKE_INSTANCES intake processes (intake-1, intake-2, …) listen on $BOXOFFICE_INTAKE_BASE_PORT,
# +1, …; NGINX owns the public port $BOXOFFICE_HTTP_PORT.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/stack/env.sh"
. "$ROOT/stack/procs.sh"
STACK_DIR=$BOXOFFICE_STACK_DIR
mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"
# The services' logs are for their owner and group only (0640): they name customers and bookings.
umask 027
chmod 640 "$STACK_DIR"/logs/*.log 2>/dev/null || true
PY=$ROOT/.venv/bin/python
HTTP_PORT=$BOXOFFICE_HTTP_PORT
INSTANCES=$BOXOFFICE_INTAKE_INSTANCES
INTAKE_BASE=$BOXOFFICE_INTAKE_BASE_PORT
METRICS_BASE=$BOXOFFICE_METRICS_BASE
SMTP_PORT=${BOXOFFICE_SMTP_PORT:-10025}
NGINX_SH=$ROOT/stack/nginx.sh

# name  module  port (intake: its HTTP port; mailsink: SMTP; the others: health/metrics)
SERVICES=()
for ((i = 1; i <= INSTANCES; i++)); do SERVICES+=("intake-$i intake $((INTAKE_BASE + i - 1))"); done
SERVICES+=(
  "booking_processor booking_processor $METRICS_BASE"
  "outbox_relay booking_processor.relay_main $((METRICS_BASE + 4))"
  "projections projections $((METRICS_BASE + 1))"
  "expiry expiry $((METRICS_BASE + 2))"
  "notifier notifier $((METRICS_BASE + 3))"
  "mailsink notifier.mailsink $SMTP_PORT"
  "devpay payments.devprovider $((METRICS_BASE + 6))"
)
# Started after NGINX (it exits when NGINX does not answer at its start), stopped before it: Debian's
# prometheus-nginx-exporter, reading NGINX's stub_status.
EXPORTER="nginx_exporter prometheus-nginx-exporter $((METRICS_BASE + 5))"

log() { printf '[services] %s\n' "$*" >&2; }

# Started as root, each service drops to an OS user of its own (stack/accounts.sh: `boxoffice-<account>`, made by
# `make install`) that reads its passwords from service-secrets/<account>/ beside $BOXOFFICE_SECRETS_DIR
# (stack/stack.sh: its own, never another service's or an administrator's). A stack they cannot reach (a test's
# private temp dir) leaves them as root, and says so. NGINX's workers drop to www-data in stack/nginx.sh.
. "$ROOT/stack/accounts.sh"
AS_USERS=0  # 1: the services run as their accounts
if [ "$(id -u)" = 0 ]; then
  own=$(dirname "${BOXOFFICE_SECRETS_DIR:-$STACK_DIR/secrets}")/service-secrets
  as_account() { local u; u=$(account_user "$1"); echo setpriv --reuid="$u" --regid="$u" --init-groups --inh-caps=-all --; }
  read -ra as_intake <<< "$(as_account intake)"
  # The token keys: the ones the environment names when the intake's user may read them (or a JWKS URL), else
  # the stack's copies.
  readable_or() { if [[ ${1:-} == http*://* ]] || { [ -n "${1:-}" ] && "${as_intake[@]}" test -r "$1"; }; then echo "$1"; else echo "$2"; fi; }
  reachable=0
  if accounts_exist; then reachable=1; fi
  if [ "$reachable" = 1 ]; then
    jwks=$(readable_or "${BOXOFFICE_AUTH_JWKS:-}" "$own/intake/jwks.json")
    dev_key=$(readable_or "${BOXOFFICE_AUTH_DEV_SIGNING_KEY:-}" "$own/intake/dev-signing-key.pem")
    ticket_key=$(readable_or "${BOXOFFICE_TICKET_SIGNING_KEY:-}" "$own/intake/ticket-key.pem")
  fi
  # (The interpreter is checked once, as the intake: the code is the same for every account. test -x misjudges
  # a pyenv under /root.)
  if [ "$reachable" = 1 ] && "${as_intake[@]}" test -x "$STACK_DIR" -a -r "$own/intake/pgpass" \
       -a -r "$ROOT/runtime/settings.py" -a \( -r "$jwks" -o ! -e "$jwks" \) \
       && "${as_intake[@]}" "$PY" -c "import runtime.settings" 2>/dev/null; then
    AS_USERS=1
    for a in mailsink:mail devpay:devpay; do  # the development mail sink's and payment provider's data (an older
      d=$STACK_DIR/${a#*:} u=$(account_user "${a%%:*}")  # stack's was the one services' user's: theirs now)
      mkdir -p "$d"; find "$d" ! -user "$u" -exec chown "$u:" {} +
    done
  else
    log "WARNING: the services' users ($SERVICE_USER-*) cannot reach $STACK_DIR, $own or the interpreter $PY (or do not exist: make install): the services run as root"
  fi
fi

# How a process runs: RUN_AS (setpriv to its account's user, last before the program: setpriv executes it
# itself) and RUN_ENV (its own secrets; HOME its own: clients look there for files, libpq's ~/.postgresql, and
# root's is closed to it). Both empty when the services run as root.
run_as() {
  RUN_AS=() RUN_ENV=()
  [ "$AS_USERS" = 1 ] || return 0
  local a; a=$(service_account "$1")
  read -ra RUN_AS <<< "$(as_account "$a")"
  RUN_ENV=(HOME=/nonexistent BOXOFFICE_SECRETS_DIR="$own/$a" BOXOFFICE_PG_PASSFILE="$own/$a/pgpass" PGPASSFILE="$own/$a/pgpass")
  if [ "$a" = intake ]; then
    RUN_ENV+=(BOXOFFICE_AUTH_JWKS="$jwks" BOXOFFICE_AUTH_DEV_SIGNING_KEY="$dev_key" BOXOFFICE_TICKET_SIGNING_KEY="$ticket_key")
  fi
}

ready_url() {  # name port -> URL to poll, or empty
  case $1 in mailsink) echo "" ;; nginx_exporter) echo "http://127.0.0.1:$2/metrics" ;; *) echo "http://127.0.0.1:$2/readyz" ;; esac
}

start_one() {
  local name=$1 module=$2 port=$3 pidfile=$STACK_DIR/run/$1.pid
  if pid_alive "$pidfile"; then log "$name already running"; return 0; fi
  run_as "$name"
  if [ "$name" = nginx_exporter ]; then
    (nohup "${RUN_AS[@]}" "$module" -nginx.scrape-uri "http://127.0.0.1:$BOXOFFICE_NGINX_OPS_PORT/nginx-status" -web.listen-address "127.0.0.1:$port" \
       >> "$STACK_DIR/logs/$name.log" 2>&1 & echo $! > "$pidfile")
    return 0
  fi
  [ -f "$ROOT/$(echo "$module" | tr . /)/__main__.py" ] || [ -f "$ROOT/$(echo "$module" | tr . /).py" ] || {
    log "$name: module $module not present, skipped"; return 0; }
  local env=(BOXOFFICE_METRICS_PORT="$port")
  case $name in
    # The local stack has the development sign-in on (POST /v1/dev/token, the web client's "Sign in"):
    # BOXOFFICE_DEV_SIGNIN=0 turns it off. It can: every listener here is on 127.0.0.1 (the intake refuses
    # dev sign-in on any other address), it mints customers only, and its tokens carry an issuer of their
    # own that an intake without dev sign-in refuses. Admins: `boxoffice token --sub … --role admin`.
    # Production leaves it off; tokens come from the identity provider.
    intake-*) env=(BOXOFFICE_HTTP_PORT="$port" BOXOFFICE_INSTANCE="$name" BOXOFFICE_DEV_SIGNIN="${BOXOFFICE_DEV_SIGNIN:-1}") ;;
    mailsink) env=(BOXOFFICE_SMTP_PORT="$port") ;;
  esac
  # nohup, env and setpriv exec into python, so $! is the python process itself (what `down` signals).
  (cd "$ROOT"; nohup env "${env[@]}" "${RUN_ENV[@]}" "${RUN_AS[@]}" "$PY" -m "$module" >> "$STACK_DIR/logs/$name.log" 2>&1 & echo $! > "$pidfile")
}

wait_ready() {
  local name=$1 port=$2 pidfile=$STACK_DIR/run/$1.pid url deadline=$((SECONDS + 60))
  [ -f "$pidfile" ] || return 0
  url=$(ready_url "$name" "$port")
  until { [ -z "$url" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; } || \
        { [ -n "$url" ] && curl -fsS -o /dev/null "$url" 2>/dev/null; }; do
    pid_alive "$pidfile" || { tail -n 20 "$STACK_DIR/logs/$name.log" >&2; log "ERROR: $name exited; see $STACK_DIR/logs/$name.log"; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "ERROR: $name not ready in 60s; see $STACK_DIR/logs/$name.log"; exit 1; }
    sleep 0.3
  done
}

stop_one() {
  local name=$1 pidfile=$STACK_DIR/run/$1.pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
  if running "$pid"; then log "$name did not stop in 20s, killing"; kill -KILL "$pid"; fi
  rm -f "$pidfile"
  log "$name stopped"
}

# Pid files of processes no longer in the list (fewer intake instances than before, the single `intake`
# of older stacks): stopped, so that none keeps a port or runs unseen.
stop_leftovers() {
  local f name known s
  for f in "$STACK_DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid); known=no
    for s in "${SERVICES[@]}" "$EXPORTER"; do [ "${s%% *}" = "$name" ] && known=yes; done
    [ $known = yes ] || stop_one "$name"
  done
}

topology() {
  local s
  echo "  public       http://127.0.0.1:$HTTP_PORT  (NGINX: API /v1, web client /, /openapi.json /healthz /readyz)"
  for s in "${SERVICES[@]}" "$EXPORTER"; do
    set -- $s
    case $1 in
      intake-*) printf '  %-12s 127.0.0.1:%s  (behind NGINX)\n' "$1" "$3" ;;
      mailsink) printf '  %-12s smtp 127.0.0.1:%s\n' "$1" "$3" ;;
      nginx_exporter) printf '  %-12s metrics http://127.0.0.1:%s/metrics (NGINX'"'"'s own figures)\n' nginx "$3" ;;
      *) printf '  %-12s metrics http://127.0.0.1:%s/metrics\n' "${1/booking_processor/processor}" "$3" ;;
    esac
  done
  local i
  for ((i = 0; i < ${BOXOFFICE_PG_SHARDS:-1}; i++)); do
    echo "  postgres     shard $i: $(boxoffice_shard_dsn "$i" read-write | sed 's/.*@//; s:/.*::') (Patroni; primary and synchronous standby)$([ $i = 0 ] && echo ' (+ the catalog: the shard map)')"
  done
  echo "  kafka        $BOXOFFICE_KAFKA_BOOTSTRAP  (topology: $BOXOFFICE_TOPOLOGY)"
  echo "  redis        127.0.0.1:$BOXOFFICE_REDIS_PORT${BOXOFFICE_REDIS_SENTINELS:+  (sentinels $BOXOFFICE_REDIS_SENTINELS, master $BOXOFFICE_REDIS_MASTER)}"
  echo "  prometheus   http://127.0.0.1:$BOXOFFICE_PROMETHEUS_PORT  (alerting rules: stack/prometheus/rules.yml)"
}

case ${1:-status} in
  up)
    for s in "${SERVICES[@]}"; do start_one $s; done
    for s in "${SERVICES[@]}"; do set -- $s; wait_ready "$1" "$3"; done
    stop_leftovers  # after the new ones answer; before NGINX, which may need a leftover's port
    "$NGINX_SH" start
    start_one $EXPORTER; set -- $EXPORTER; wait_ready "$1" "$3"
    log "ready: API http://127.0.0.1:$HTTP_PORT through NGINX to $INSTANCES intake instance(s)  (logs: $STACK_DIR/logs)" ;;
  down)
    set -- $EXPORTER; stop_one "$1"
    "$NGINX_SH" stop
    for ((i=${#SERVICES[@]}-1; i>=0; i--)); do set -- ${SERVICES[$i]}; stop_one "$1"; done
    stop_leftovers ;;
  status)
    for s in "${SERVICES[@]}" "$EXPORTER"; do
      set -- $s
      if pid_alive "$STACK_DIR/run/$1.pid"; then echo "$1: running (port $3)"; else echo "$1: stopped"; fi
    done
    if [ "$("$NGINX_SH" status)" = "nginx: running" ]; then echo "nginx: running (public port $HTTP_PORT)"; else echo "nginx: stopped"; fi ;;
  list) for s in "${SERVICES[@]}"; do echo "$s"; done ;;
  topology) topology ;;
  *) echo "usage: services.sh up|down|status|list|topology" >&2; exit 2 ;;
esac
