#!/usr/bin/env bash
# NGINX in front of any list of intake ports, as a plain process with everything under one prefix dir.
# The server block is stack/nginx/boxoffice.conf, the very file compose.yaml mounts; this script renders
# only the main nginx.conf and the small files that file includes (upstream, listen/root/logs, the ops
# listener, the cache's directory, the trusted and uncached addresses) and copies stack/nginx/headers.conf.
#
#   stack/nginx.sh render|start|stop|reload|status [options]
#     --prefix DIR      nginx.conf, boxoffice.d/, logs/, temp/, html/, nginx.pid   ($BOXOFFICE_STACK_DIR/nginx)
#     --listen PORT     public port on 127.0.0.1                                    ($BOXOFFICE_HTTP_PORT, 8000)
#     --upstream ADDR   an intake instance, HOST:PORT or PORT; repeat for more
#                       (default: $BOXOFFICE_INTAKE_INSTANCES ports from $BOXOFFICE_INTAKE_BASE_PORT)
#     --root DIR        the web client's build ($BOXOFFICE_WEB_ROOT, web/dist; a placeholder page if absent)
#     --ops-listen PORT the operators' listener on 127.0.0.1: stub_status at /nginx-status, for the exporter
#                       ($BOXOFFICE_NGINX_OPS_PORT; default: the public port + 100)
#     --trusted ADDR    an address or CIDR exempt from the per-address limits; repeat for more, `none` for
#                       none ($BOXOFFICE_NGINX_TRUSTED, space-separated; default 127.0.0.1: every client of the
#                       local stack is the developer's, the tests' or a benchmark's, and it listens on loopback)
#     --uncached ADDR   an address or CIDR whose reads skip the micro-cache; repeat for more
#                       ($BOXOFFICE_NGINX_UNCACHED, space-separated; default none: the e2e tests set 127.0.0.1,
#                       they read what they just wrote)
#   start validates the config (nginx -t), starts NGINX, waits for /nginx-health; a running NGINX is
#   reloaded if its rendered config changed. stop is graceful (SIGQUIT; streams are cut after 10 s).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/stack/env.sh"
. "$ROOT/stack/procs.sh"
NGINX_BIN=${BOXOFFICE_NGINX_BIN:-/usr/sbin/nginx}
[ -x "$NGINX_BIN" ] || NGINX_BIN=$(command -v nginx || echo nginx)
SHARED_CONF=$ROOT/stack/nginx/boxoffice.conf

log() { printf '[nginx] %s\n' "$*" >&2; }
die() { printf '[nginx] ERROR: %s\n' "$*" >&2; exit 1; }

cmd=${1:-status}; shift || true
PREFIX=$BOXOFFICE_STACK_DIR/nginx
LISTEN=$BOXOFFICE_HTTP_PORT
WEB_ROOT=${BOXOFFICE_WEB_ROOT:-$ROOT/web/dist}
OPS_LISTEN=${BOXOFFICE_NGINX_OPS_PORT:-}
UPSTREAMS=()
# shellcheck disable=SC2206  # space-separated lists
TRUSTED=(${BOXOFFICE_NGINX_TRUSTED-127.0.0.1}) UNCACHED=(${BOXOFFICE_NGINX_UNCACHED-})
trusted_given=no uncached_given=no
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) PREFIX=$2; shift 2 ;;
    --listen) LISTEN=$2; shift 2 ;;
    --upstream) UPSTREAMS+=("$2"); shift 2 ;;
    --root) WEB_ROOT=$2; shift 2 ;;
    --ops-listen) OPS_LISTEN=$2; shift 2 ;;
    --trusted) [ $trusted_given = yes ] || TRUSTED=(); trusted_given=yes; [ "$2" = none ] || TRUSTED+=("$2"); shift 2 ;;
    --uncached) [ $uncached_given = yes ] || UNCACHED=(); uncached_given=yes; [ "$2" = none ] || UNCACHED+=("$2"); shift 2 ;;
    *) die "unknown option $1 (usage: nginx.sh render|start|stop|reload|status [--prefix DIR] [--listen PORT] [--upstream ADDR]… [--root DIR] [--ops-listen PORT] [--trusted ADDR]… [--uncached ADDR]…)" ;;
  esac
done
OPS_LISTEN=${OPS_LISTEN:-$((LISTEN + 100))}
if [ ${#UPSTREAMS[@]} -eq 0 ]; then
  for ((i = 0; i < BOXOFFICE_INTAKE_INSTANCES; i++)); do UPSTREAMS+=("$((BOXOFFICE_INTAKE_BASE_PORT + i))"); done
fi
# What NGINX writes (its logs name clients' addresses) is for its owner and group only (logs 0640); what its
# workers must reach is opened up explicitly in render.
umask 027
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
CONF=$PREFIX/nginx.conf
PIDFILE=$PREFIX/nginx.pid
NGINX=("$NGINX_BIN" -p "$PREFIX/" -c "$CONF" -e "$PREFIX/logs/error.log")


render() {
  mkdir -p "$PREFIX/boxoffice.d" "$PREFIX/logs" "$PREFIX/html" "$PREFIX/cache" \
           "$PREFIX"/temp/{client_body,proxy,fastcgi,uwsgi,scgi}
  local root=$WEB_ROOT user_line="" mime="include /etc/nginx/mime.types;"
  if [ ! -f "$root/index.html" ]; then
    root=$PREFIX/html
    cat > "$root/index.html" <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>boxoffice</title></head>
<body><h1>boxoffice</h1><p>The web client is not built yet (no <code>web/dist</code>).
The API is under <a href="/openapi.json">/v1</a>.</p></body></html>
HTML
  fi
  root=$(cd "$root" && pwd)
  chmod -R a+rX "$PREFIX/html"
  # Started as root, the master keeps root (to bind and to open the logs) and the workers, which talk to
  # clients, run as an unprivileged user ($BOXOFFICE_NGINX_USER; Debian's www-data, else nobody): they read
  # the web root and write only the cache and the temp files (theirs, mode 0700).
  # A prefix under a directory only root may enter (a test's private temp dir) leaves them as root, and says so.
  if [ "$(id -u)" = 0 ]; then
    local worker=${BOXOFFICE_NGINX_USER:-$(id -u www-data >/dev/null 2>&1 && echo www-data || echo nobody)}
    chmod 711 "$PREFIX"
    chown -R "$worker" "$PREFIX/cache" "$PREFIX/temp" && chmod 700 "$PREFIX/cache" "$PREFIX"/temp/*
    if runuser -u "$worker" -- test -r "$root/index.html" -a -w "$PREFIX/cache" -a -w "$PREFIX/temp/proxy"; then
      user_line="user $worker $(id -gn "$worker");"
    else
      log "WARNING: $worker cannot reach the web root ($root) or $PREFIX: NGINX's workers run as root"
      user_line="user root root;"
    fi
  fi
  [ -f /etc/nginx/mime.types ] || mime='types { text/html html; text/css css; application/javascript js mjs; application/json json; image/svg+xml svg; image/png png; image/x-icon ico; font/woff2 woff2; }'
  {
    echo "# Rendered by stack/nginx.sh; do not edit (the server block is $SHARED_CONF)."
    # max_fails=0: NGINX never marks an instance down. With proxy_next_upstream … http_503 every 503 counts
    # as a failure, and with the default max_fails=1 one "Kafka did not acknowledge" took a healthy intake
    # out for fail_timeout; two such answers made "no live upstreams" for every client while both were
    # alive. A dead instance costs a refused connect on loopback (microseconds) before the next one is tried.
    echo "upstream boxoffice_intake {"
    echo "    zone boxoffice_intake 64k;"
    local u
    for u in "${UPSTREAMS[@]}"; do
      [[ $u == *:* ]] || u=127.0.0.1:$u
      echo "    server $u max_fails=0;"
    done
    echo "    keepalive 32;"
    echo "    keepalive_timeout 60s;"
    echo "}"
  } > "$PREFIX/boxoffice.d/upstream.conf.new"
  cat > "$PREFIX/boxoffice.d/server.conf.new" <<CONF
# Rendered by stack/nginx.sh; do not edit.
listen 127.0.0.1:$LISTEN;
root $root;
access_log $PREFIX/logs/access.log boxoffice_json;
error_log $PREFIX/logs/error.log warn;
CONF
  echo "listen 127.0.0.1:$OPS_LISTEN;" > "$PREFIX/boxoffice.d/ops.conf.new"
  # The micro-cache: entries live 1 s; inactive ones go after 1 min; at most 256 MB on disk.
  echo "proxy_cache_path $PREFIX/cache levels=1:2 keys_zone=boxoffice_micro:10m max_size=256m inactive=1m use_temp_path=off;" \
    > "$PREFIX/boxoffice.d/cache.conf.new"
  local a
  { echo "# Rendered by stack/nginx.sh: exempt from the per-address limits."
    for a in "${TRUSTED[@]}"; do echo "$a 1;"; done; } > "$PREFIX/boxoffice.d/trusted.conf.new"
  { echo "# Rendered by stack/nginx.sh: reads that skip the micro-cache."
    for a in "${UNCACHED[@]}"; do echo "$a 1;"; done; } > "$PREFIX/boxoffice.d/uncached.conf.new"
  cp "$ROOT/stack/nginx/headers.conf" "$PREFIX/boxoffice-headers.conf.new"
  # worker_connections: each proxied request takes two (the client's and the intake's); the descriptors a
  # worker may open cover them with room to spare.
  cat > "$CONF.new" <<CONF
# Rendered by stack/nginx.sh; do not edit (the server block is $SHARED_CONF).
$user_line
worker_processes ${BOXOFFICE_NGINX_WORKERS:-auto};
worker_rlimit_nofile ${BOXOFFICE_NGINX_NOFILE:-16384};
worker_shutdown_timeout 10s;
pid $PIDFILE;
error_log $PREFIX/logs/error.log warn;
events { worker_connections ${BOXOFFICE_NGINX_CONNECTIONS:-8192}; }
http {
    $mime
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    client_body_temp_path $PREFIX/temp/client_body;
    proxy_temp_path $PREFIX/temp/proxy;
    fastcgi_temp_path $PREFIX/temp/fastcgi;
    uwsgi_temp_path $PREFIX/temp/uwsgi;
    scgi_temp_path $PREFIX/temp/scgi;
    include $SHARED_CONF;
}
CONF
  changed=no
  local f
  for f in "$CONF" "$PREFIX"/boxoffice.d/{upstream,server,ops,cache,trusted,uncached}.conf "$PREFIX/boxoffice-headers.conf"; do
    if cmp -s "$f.new" "$f"; then rm -f "$f.new"; else mv "$f.new" "$f"; changed=yes; fi
  done
}

check() {
  "${NGINX[@]}" -t -q 2>"$PREFIX/logs/config-test.log" || { cat "$PREFIX/logs/config-test.log" >&2; die "invalid config $CONF"; }
}

wait_health() {
  local deadline=$((SECONDS + 15))
  until curl -fsS -o /dev/null "http://127.0.0.1:$LISTEN/nginx-health" 2>/dev/null; do
    pid_alive "$PIDFILE" || { tail -n 20 "$PREFIX/logs/error.log" >&2 2>/dev/null; die "nginx exited; see $PREFIX/logs/error.log"; }
    [ $SECONDS -lt $deadline ] || die "nginx not answering on 127.0.0.1:$LISTEN within 15s; see $PREFIX/logs/error.log"
    sleep 0.2
  done
}

# The workers of a master that was SIGKILLed live on as orphans and keep the public port: without this, the
# next start fails with "bind() … Address already in use". A process is this stack's when it is an nginx
# holding a file under this prefix open (its logs); they are ended as a supervisor ends a process group:
# SIGTERM (a worker's fast shutdown), then SIGKILL after 3 s.
orphans() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$(cat "$dir/comm" 2>/dev/null)" = nginx ] || continue
    pid_alive "$PIDFILE" && [ "$pid" = "$(cat "$PIDFILE")" ] && continue
    if ls -l "$dir/fd" 2>/dev/null | grep -qF -- "-> $PREFIX/"; then echo "$pid"; fi
  done
}
end_orphans() {
  local left
  left=$(orphans) || true
  [ -n "$left" ] || return 0
  log "ending orphaned nginx processes of $PREFIX (their master died): $(echo $left)"
  kill -TERM $left 2>/dev/null || true
  for _ in $(seq 1 15); do
    left=$(for pid in $left; do if running "$pid"; then echo "$pid"; fi; done)
    [ -n "$left" ] || return 0
    sleep 0.2
  done
  kill -KILL $left 2>/dev/null || true
  sleep 0.2
}

stop() {
  pid_alive "$PIDFILE" || { rm -f "$PIDFILE"; end_orphans; return 0; }
  local pid; pid=$(cat "$PIDFILE")
  kill -QUIT "$pid"  # graceful: finish the requests in flight
  for _ in $(seq 1 75); do running "$pid" || break; sleep 0.2; done
  if running "$pid"; then log "nginx did not stop in 15s, terminating"; kill -TERM "$pid" 2>/dev/null || true; sleep 1; fi
  if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  end_orphans
  log "nginx stopped"
}

case $cmd in
  render) render; check; echo "$CONF" ;;
  start)
    render
    if pid_alive "$PIDFILE"; then
      if [ "$changed" = yes ]; then check; kill -HUP "$(cat "$PIDFILE")"; log "nginx already running; config changed, reloaded"
      else log "nginx already running on 127.0.0.1:$LISTEN"; fi
    else
      check
      rm -f "$PIDFILE"
      end_orphans
      "${NGINX[@]}" || { tail -n 20 "$PREFIX/logs/error.log" >&2 2>/dev/null; die "nginx failed to start; see $PREFIX/logs/error.log"; }
    fi
    wait_health
    log "nginx on http://127.0.0.1:$LISTEN → ${UPSTREAMS[*]} (ops: http://127.0.0.1:$OPS_LISTEN/nginx-status)" ;;
  reload)
    pid_alive "$PIDFILE" || die "nginx is not running (prefix $PREFIX)"
    render; check; kill -HUP "$(cat "$PIDFILE")"; log "nginx reloaded" ;;
  stop) stop ;;
  status) if pid_alive "$PIDFILE"; then echo "nginx: running"; else echo "nginx: stopped"; fi ;;
  *) die "usage: nginx.sh render|start|stop|reload|status [options]" ;;
esac
