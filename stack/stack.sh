#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft), PostgreSQL 15 under Patroni (with etcd), Redis 7 (under
# Sentinel) as plain processes on loopback, data and logs under $BOXOFFICE_STACK_DIR (default .stack/,
# git-ignored). NGINX is not a component here: it fronts the intake processes, so stack/services.sh starts
# it after them (through stack/nginx.sh) and stops it first.
#
#   stack/stack.sh install            install what is missing (Debian packages incl. nginx, chromium, patroni,
#                                     etcd, redis-sentinel and prometheus; Kafka jars; .venv) and build the web
#                                     client when its sources changed
#   stack/stack.sh up   [component…]  start (idempotent), wait until ready, migrate, create topics
#   stack/stack.sh down [component…]  stop what this stack started, in the reverse order
#   stack/stack.sh status [component…]
# Components: postgres redis kafka (default: all three, in this order). The topology is BOXOFFICE_TOPOLOGY:
#   ha (default)  3 Kafka nodes (replication factor 3, min.insync.replicas 2); per PostgreSQL shard a primary
#                 and a synchronous standby under Patroni, with a 3-member etcd; Redis primary + replica + 3
#                 sentinels. The loss of any one of these servers loses nothing acknowledged.
#   single        one of each: one Kafka node, one PostgreSQL node per shard (Patroni, one etcd), one Redis.
# Ports, data directories and timeouts: stack/lib/{kafka,postgres,redis}.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/stack/env.sh"
. "$ROOT/stack/procs.sh"
mkdir -p "$BOXOFFICE_STACK_DIR"
STACK_DIR=$(cd "$BOXOFFICE_STACK_DIR" && pwd)
TOPOLOGY=$BOXOFFICE_TOPOLOGY
KAFKA_PORT=$BOXOFFICE_KAFKA_PORT
PG_PORT=$BOXOFFICE_PG_PORT
ETCD_PORT=$BOXOFFICE_ETCD_PORT
PATRONI_PORT=$BOXOFFICE_PATRONI_PORT
SHARDS=${BOXOFFICE_PG_SHARDS:-1}
REDIS_PORT=$BOXOFFICE_REDIS_PORT
KAFKA_HEAP=${BOXOFFICE_KAFKA_HEAP:-768m}
PG_BIN=${BOXOFFICE_PG_BIN:-/usr/lib/postgresql/15/bin}
NGINX_BIN=${BOXOFFICE_NGINX_BIN:-/usr/sbin/nginx}
KAFKA_LIBS=${BOXOFFICE_KAFKA_LIBS:-$ROOT/.cache/kafka-libs}
KAFKA_JMX_AGENT=$KAFKA_LIBS/jmx/jmx_prometheus_javaagent.jar
VENV=$ROOT/.venv
READY_SECONDS=${BOXOFFICE_READY_SECONDS:-90}

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }


wait_for() {  # name logfile command...
  local name=$1 logfile=$2; shift 2
  local deadline=$((SECONDS + READY_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$logfile" >&2 2>/dev/null || true
      die "$name did not become ready within ${READY_SECONDS}s; see its log: $logfile"
    fi
    sleep 0.3
  done
}

# ---------------------------------------------------------------- install
install_debian() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15 postgresql-contrib)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  [ -x "$NGINX_BIN" ] || command -v nginx >/dev/null || missing+=(nginx)
  # The browser tests drive Debian's Chromium (Playwright never downloads a browser of its own).
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  # The highly available engines and what watches them.
  [ -x "$PATRONI_BIN" ] || missing+=(patroni)
  command -v etcd >/dev/null || missing+=(etcd-server etcd-client)
  command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v prometheus-postgres-exporter >/dev/null || missing+=(prometheus-postgres-exporter)
  command -v prometheus-redis-exporter >/dev/null || missing+=(prometheus-redis-exporter)
  command -v prometheus-nginx-exporter >/dev/null || missing+=(prometheus-nginx-exporter)
  command -v wrk >/dev/null || missing+=(wrk)  # the benchmarks' closed-loop load generator (bench/frontdoor.py)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: install them (needs root)"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" nginx "* ]]; then disable_system_nginx; fi
}

# Debian's nginx package starts a system-wide nginx on port 80 when it can; the stack runs its own.
disable_system_nginx() {
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  else
    command -v update-rc.d >/dev/null && update-rc.d nginx disable >/dev/null 2>&1 || true
    if [ -x /etc/init.d/nginx ] && [ -s /run/nginx.pid ]; then /etc/init.d/nginx stop >/dev/null 2>&1 || true; fi
  fi
  if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    kill -QUIT "$(cat /run/nginx.pid)" 2>/dev/null || true
  fi
  log "Debian's default nginx service is stopped and disabled (the stack runs its own nginx)"
}

install_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ] && cmp -s "$KAFKA_LIBS/.complete" "$ROOT/stack/kafka/pom.xml"; then
    return 0
  fi
  log "fetching Apache Kafka jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >&2
  # The Prometheus JMX exporter, a java agent each broker loads (not on the brokers' classpath).
  local jmx_version; jmx_version=$(sed -n 's:.*<jmx.exporter.version>\(.*\)</jmx.exporter.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")
  mvn -q -B dependency:copy -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$jmx_version" \
      -DoutputDirectory="$KAFKA_LIBS/jmx" -Dmdep.stripVersion=true >&2
  cp "$ROOT/stack/kafka/pom.xml" "$KAFKA_LIBS/.complete"
}

install_python() {
  local stamp=$VENV/.installed
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/pyproject.toml"; then return 0; fi
  log "installing boxoffice into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q -e "$ROOT[dev]" >&2
  cp "$ROOT/pyproject.toml" "$stamp"
}

# The web client (web/), two builds of the same sources (docs/WEB.md): `npm run build` into web/dist, which NGINX
# serves (`make up`; no test scaffolding, no source maps), and `npm run build:e2e` into web/dist-e2e, which the
# browser tests serve (tests/e2e/conftest.py's WEB_ROOT). `npm ci` when the lockfile changed; both builds when
# the sources changed since the last build (a stamp holds their hash) or either output is missing.
# BOXOFFICE_SKIP_WEB=1 skips it.
WEB=$ROOT/web
WEB_STAMP=$WEB/node_modules/.boxoffice-build-stamp  # not in dist/, which NGINX serves
# Everything a build reads: the packages, the config (vite.config.ts picks each build's output and source maps),
# the sources, scripts/ (check-dist.mjs checks each output), and public/ and .env files should the client get any.
web_sources_hash() {
  (cd "$WEB" && {
     printf '%s\n' package.json package-lock.json index.html vite.config.ts tsconfig.json
     find src scripts -type f
     for d in public; do [ ! -d "$d" ] || find "$d" -type f; done
     for f in .env .env.*; do [ ! -f "$f" ] || printf '%s\n' "$f"; done
   } | LC_ALL=C sort | while read -r f; do [ -f "$f" ] && { printf '%s\0' "$f"; cat "$f"; }; done) | sha256sum | cut -d' ' -f1
}
install_web() {
  [ "${BOXOFFICE_SKIP_WEB:-0}" = 1 ] && return 0
  local hash; hash=$(web_sources_hash)
  if [ -f "$WEB/dist/index.html" ] && [ -f "$WEB/dist-e2e/index.html" ] \
     && [ "$(cat "$WEB_STAMP" 2>/dev/null)" = "$hash" ]; then return 0; fi
  # Node.js comes with the machine (Debian's nodejs is too old for Vite 8).
  command -v npm >/dev/null || die "npm is missing: install Node.js >= 20.19 with npm (web/package.json engines)"
  if [ ! -d "$WEB/node_modules" ] || ! cmp -s "$WEB/package-lock.json" "$WEB/node_modules/.package-lock.json.installed"; then
    log "installing the web client's packages (npm ci in web/)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in web/"
    cp "$WEB/package-lock.json" "$WEB/node_modules/.package-lock.json.installed"
  fi
  log "building the web client (npm run build in web/ → web/dist, the production build)"
  (cd "$WEB" && npm run --silent build >&2) || die "the web client's build failed (cd web && npm run build)"
  log "building the web client's test build (npm run build:e2e in web/ → web/dist-e2e, for the browser tests)"
  (cd "$WEB" && npm run --silent build:e2e >&2) || die "the web client's test build failed (cd web && npm run build:e2e)"
  echo "$hash" > "$WEB_STAMP"
}

# The OS users the services run as when the stack is started as root (stack/accounts.sh): system users that
# own their service's copies of the secrets and nothing else.
. "$ROOT/stack/accounts.sh"
install_service_user() {
  [ "$(id -u)" = 0 ] || return 0
  local a u
  for a in $SERVICE_ACCOUNTS; do
    u=$(account_user "$a")
    id -u "$u" >/dev/null 2>&1 && continue
    log "adding the system user $u (the $a service runs as it)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
  done
}

# What each service's OS user may read (stack/services.sh points it there): $STACK_DIR/service-secrets/<account>/,
# its own (0700, files 0600), with copies of its own credentials only (stack/accounts.sh): the pgpass lines of the
# services' role, its Redis and Kafka users' passwords, the payment keys, and for the intake the JWKS, the
# development sign-in's key and the tickets' master key (it signs and verifies tickets). Never the superusers',
# the migrations' owner's, `admin`'s, the brokers', another service's, or the signing key that mints admin tokens.
service_secrets() {
  [ "$(id -u)" = 0 ] && accounts_exist || return 0
  local dir=$STACK_DIR/service-secrets a f from  # beside $SECRETS_DIR, which stays root's alone (0700)
  rm -rf "$dir.new"; mkdir -p "$dir.new"; chmod 711 "$dir.new"  # each may enter its own, list none
  for a in $SERVICE_ACCOUNTS; do
    (umask 077 && mkdir "$dir.new/$a")
    for f in $(account_secrets "$a"); do
      case $f in
        pgpass) from=$SECRETS_DIR/pgpass ;;
        auth/*) from=$STACK_DIR/$f ;;
        *) from=$SECRETS_DIR/$f.password ;;
      esac
      if [ ! -f "$from" ]; then continue; fi
      if [ "$f" = pgpass ]; then grep ':boxoffice:' "$from" > "$dir.new/$a/pgpass" || true; else cp "$from" "$dir.new/$a/"; fi
    done
    chmod 600 "$dir.new/$a"/* 2>/dev/null || true
    chown -R "$(account_user "$a"):" "$dir.new/$a"
  done
  rm -rf "$dir"; mv "$dir.new" "$dir"
}

cmd_install() { install_debian; install_service_user; install_kafka; install_python; install_web; }

# ---------------------------------------------------------------- engines
# Per-stack secrets, generated once and never committed: $SECRETS_DIR (0700), one password per file (0600):
# PostgreSQL's roles (pg-<role>), Redis's ACL users (redis-<user>).
SECRETS_DIR=$STACK_DIR/secrets
stack_secret() {  # name: its password, generated the first time
  local file="$SECRETS_DIR/$1.password"
  if [ ! -s "$file" ]; then
    (umask 077 && mkdir -p "$SECRETS_DIR" && python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$file")
  fi
  cat "$file"
}

# Each engine in a file of its own (stack/lib/), for the topology $TOPOLOGY (BOXOFFICE_TOPOLOGY): `ha` (the
# default, what production runs) or `single` (one process per engine, for small machines).
. "$ROOT/stack/lib/postgres.sh"
. "$ROOT/stack/lib/redis.sh"
. "$ROOT/stack/lib/kafka.sh"
. "$ROOT/stack/lib/monitoring.sh"

# ---------------------------------------------------------------- main
ALL_COMPONENTS="postgres redis kafka monitoring"
components() { if [ $# -eq 0 ]; then echo $ALL_COMPONENTS; else echo "$@"; fi; }
reversed() { local out=() c; for c in "$@"; do out=("$c" "${out[@]}"); done; echo "${out[@]}"; }
check_component() { [[ " $ALL_COMPONENTS " == *" $1 "* ]] || die "unknown component $1 (components: $ALL_COMPONENTS)"; }

export BOXOFFICE_STACK_DIR=$STACK_DIR

cmd=${1:-status}; shift || true
case $cmd in
  install) cmd_install ;;
  up)
    # The token keys (runtime/auth_keys.py), once per stack dir: the key `boxoffice token` signs with and the
    # development sign-in's own (private, mode 0600, never committed: the stack dir is git-ignored), and the
    # JWKS the intakes verify with.
    mkdir -p "$STACK_DIR"
    "$VENV/bin/boxoffice" keys || die "could not make the token keys in $STACK_DIR/auth"
    rm -f "$STACK_DIR/auth-secret"  # the HS256 secret of older stacks
    started=()
    for c in $(components "$@"); do
      check_component "$c"
      case $c in postgres) pg_up ;; redis) redis_up ;; kafka) kafka_up ;; monitoring) monitoring_up ;; esac
      started+=("$c")
    done
    if [[ " ${started[*]} " == *" postgres "* ]]; then
      # Where the engines are, for the CLI in a plain shell (runtime/settings.py reads what the environment
      # leaves unset).
      for v in BOXOFFICE_KAFKA_BOOTSTRAP BOXOFFICE_PG_DSN BOXOFFICE_PG_READ_DSN BOXOFFICE_PG_SHARD_DSNS \
               BOXOFFICE_PG_SHARD_READ_DSNS BOXOFFICE_REDIS_URL BOXOFFICE_REDIS_SENTINELS BOXOFFICE_REDIS_MASTER; do
        echo "$v=${!v:-}"
      done > "$STACK_DIR/clients.env"
      rm -f "$STACK_DIR/pg-shards"  # what older stacks recorded
      "$VENV/bin/boxoffice" migrate  # every shard's primary
    fi
    if [[ " ${started[*]} " == *" kafka "* ]]; then "$VENV/bin/boxoffice" topics --create >/dev/null; fi
    # The payment provider's API key and webhook secret (the development provider's, payments/devprovider.py).
    stack_secret payments-api >/dev/null && stack_secret payments-webhook >/dev/null
    service_secrets
    # Logs for their owner and group only (the engines start with umask 027; this catches older stacks' files).
    find "$STACK_DIR" -name '*.log' -type f -perm /o=r -exec chmod o-rwx {} + 2>/dev/null || true
    log "ready ($TOPOLOGY): kafka $BOXOFFICE_KAFKA_BOOTSTRAP  postgres $SHARDS shard(s) × $PG_NODES node(s) from 127.0.0.1:$PG_PORT (etcd $(etcd_hosts))  redis 127.0.0.1:$REDIS_PORT$([ "$REDIS_SENTINELS" -gt 0 ] && echo " (+replica, $REDIS_SENTINELS sentinels)")  (data: $STACK_DIR)"
    ;;
  down)
    for c in $(reversed $(components "$@")); do
      check_component "$c"
      case $c in postgres) pg_down ;; redis) redis_down ;; kafka) kafka_down ;; monitoring) monitoring_down ;; esac
    done ;;
  status)
    for c in $(components "$@"); do
      check_component "$c"
      case $c in
        postgres) pg_status ;;
        redis) redis_status ;;
        kafka) kafka_status ;;
        monitoring) monitoring_status ;;
      esac
    done ;;
  *) die "usage: stack.sh install|up|down|status [component…]" ;;
esac
