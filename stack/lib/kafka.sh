# Apache Kafka (KRaft) as $KAFKA_NODES processes (sourced by stack/stack.sh). Each node is broker and
# controller at once: node i (1-based) listens on $KAFKA_PORT + 2(i-1) (clients) and the next port (the
# controller quorum), with its data in $STACK_DIR/kafka (node 1) or $STACK_DIR/kafka-<i>.
# With 3 nodes (the default, BOXOFFICE_TOPOLOGY=ha): every topic and the internal ones at replication factor
# 3 with min.insync.replicas=2, unclean leader election off; the loss of any one node loses no acknowledged
# record and stops nothing for longer than a leader election.

KAFKA_NODES=${BOXOFFICE_KAFKA_NODES:-$([ "$TOPOLOGY" = single ] && echo 1 || echo 3)}

kafka_dir() { if [ "$1" = 1 ]; then echo "$STACK_DIR/kafka"; else echo "$STACK_DIR/kafka-$1"; fi; }
kafka_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_voters() {
  local i out=""
  for ((i = 1; i <= KAFKA_NODES; i++)); do out+="${out:+,}$i@127.0.0.1:$(($(kafka_port "$i") + 1))"; done
  echo "$out"
}
kafka_replication() { if [ "$KAFKA_NODES" -ge 3 ]; then echo 3; else echo 1; fi; }
kafka_min_isr() { if [ "$KAFKA_NODES" -ge 3 ]; then echo 2; else echo 1; fi; }

# The cluster's id and shape, kept with its data: a node formatted for another shape (a single-node stack
# turned HA) is re-formatted, and says so.
kafka_shape() { echo "nodes=$KAFKA_NODES voters=$(kafka_voters)"; }

# SASL/SCRAM (SCRAM-SHA-512) for every client and between brokers, PLAIN between the controllers, and ACLs
# (StandardAuthorizer; nothing is allowed that no ACL allows): each service is a user of its own name that may
# produce and consume only its topics and join only its consumer groups (kafka_acls); `admin` (the operators'
# tools, the tests) and the brokers are super users. The users' SCRAM credentials are written when a node's
# storage is formatted, so a cluster formatted before SASL stays PLAINTEXT (and its clients, which find no
# kafka-<user> secret, too) until it is made anew.
KAFKA_SERVICE_USERS="intake expiry booking_processor outbox_relay projections notifier"
kafka_secret() { stack_secret "kafka-$1"; }
# SASL is on for a cluster formatted with it (a marker beside node 1's data) and for one not formatted yet.
kafka_sasl() {
  local data; data=$(kafka_dir 1)/data
  if [ -f "$data/meta.properties" ]; then [ -f "$data/boxoffice-sasl" ]; else return 0; fi
}

kafka_listeners() {  # port controller-port
  local protocol=PLAINTEXT; if kafka_sasl; then protocol=SASL_PLAINTEXT; fi
  cat <<PROPS
listeners=$protocol://127.0.0.1:$1,CONTROLLER://127.0.0.1:$2
advertised.listeners=$protocol://127.0.0.1:$1
controller.listener.names=CONTROLLER
inter.broker.listener.name=$protocol
listener.security.protocol.map=$protocol:$protocol,CONTROLLER:$protocol
PROPS
  [ "$protocol" = SASL_PLAINTEXT ] || return 0
  cat <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(kafka_secret broker)";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$(kafka_secret controller)" user_controller="$(kafka_secret controller)";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:controller;User:admin
allow.everyone.if.no.acl.found=false
PROPS
}

# The admin's client properties, for Kafka's own tools (mode 0600: it holds the password).
kafka_admin_properties() {
  local file=$SECRETS_DIR/kafka-admin.properties
  (umask 077 && cat > "$file" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(kafka_secret admin)";
PROPS
  )
  echo "$file"
}

# Who may do what (kafka_acls applies them): "principal|operations|resource options" per line. Consumer groups
# and the processor's topics are prefixes, so a benchmark's or a test's own group (notifier-<run>) or topic
# (booking.commands.bench.<run>) is covered by the same rule.
kafka_acl_spec() {
  cat <<SPEC
intake|Write Describe|--topic booking.commands
expiry|Write Describe|--topic booking.commands
booking_processor|Read Describe|--resource-pattern-type prefixed --topic booking.commands
booking_processor|Read|--resource-pattern-type prefixed --group booking-processor
booking_processor|Write Describe|--topic booking.commands.dlq
outbox_relay|Write Describe|--topic booking.events
projections|Read Describe|--topic booking.events
projections|Read|--resource-pattern-type prefixed --group projections
notifier|Read Describe|--topic booking.events
notifier|Read|--resource-pattern-type prefixed --group notifier
notifier|Write Describe|--topic booking.notifications.dlq
SPEC
}

kafka_acls() {
  kafka_sasl || return 0
  # The marker lives with node 1's data: a cluster formatted anew gets its ACLs anew.
  local marker; marker=$(kafka_dir 1)/data/boxoffice-acls.applied
  local spec principal ops resource op args
  spec=$(kafka_acl_spec)
  [ "$(cat "$marker" 2>/dev/null)" = "$spec" ] && return 0
  local config; config=$(kafka_admin_properties)
  mkdir -p "$STACK_DIR/kafka/acl-logs"
  while IFS='|' read -r principal ops resource; do
    args=()
    for op in $ops; do args+=(--operation "$op"); done
    # shellcheck disable=SC2086  # the resource's options are words
    java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$ROOT/stack/kafka/log4j2.properties" "-Dkafka.logs.dir=$STACK_DIR/kafka/acl-logs" \
      org.apache.kafka.tools.AclCommand --bootstrap-server "127.0.0.1:$(kafka_port 1)" --command-config "$config" \
      --add --allow-principal "User:$principal" "${args[@]}" $resource >> "$STACK_DIR/kafka/acl-logs/acls.log" 2>&1 \
      || { tail -n 20 "$STACK_DIR/kafka/acl-logs/acls.log" >&2; die "kafka ACLs for $principal could not be set"; }
  done <<< "$spec"
  echo "$spec" > "$marker"
  log "kafka ACLs set ($(echo "$spec" | wc -l) rules)"
}

kafka_node_up() {
  local i=$1 dir port controller u
  dir=$(kafka_dir "$i"); port=$(kafka_port "$i"); controller=$((port + 1))
  mkdir -p "$dir/logs" "$dir/data"
  if pid_alive "$dir/kafka.pid"; then log "kafka node $i already running on port $port"; return 0; fi
  [ -f "$KAFKA_LIBS/.complete" ] || die "kafka jars missing in $KAFKA_LIBS: run 'stack/stack.sh install'"
  local rf min_isr; rf=$(kafka_replication); min_isr=$(kafka_min_isr)
  if [ -f "$dir/data/meta.properties" ] && [ "$(cat "$dir/shape" 2>/dev/null)" != "$(kafka_shape)" ]; then
    log "kafka node $i was formatted for another cluster shape ($(cat "$dir/shape" 2>/dev/null || echo unknown)): re-formatting its data"
    rm -rf "$dir/data"; mkdir -p "$dir/data"
  fi
  # A cluster with SASL has its users' secrets (a fresh one: made now, before node 1 is formatted).
  if kafka_sasl; then
    if [ -f "$(kafka_dir 1)/data/meta.properties" ] && [ ! -s "$SECRETS_DIR/kafka-admin.password" ]; then
      die "kafka's cluster was formatted with SASL but $SECRETS_DIR holds no kafka passwords: restore them, or remove the cluster's data"
    fi
    for u in admin broker controller $KAFKA_SERVICE_USERS; do kafka_secret "$u" >/dev/null; done
  fi
  (umask 077 && cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(kafka_voters)
$(kafka_listeners "$port" "$controller")
log.dirs=$dir/data
num.partitions=12
auto.create.topics.enable=false
default.replication.factor=$rf
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
log.flush.interval.ms=1000
# A broker that stops fetching for 10 s leaves the in-sync set (the default is 30 s).
replica.lag.time.max.ms=10000
broker.session.timeout.ms=9000
broker.heartbeat.interval.ms=2000
PROPS
  )  # (mode 0600: it holds the brokers' passwords)
  local java=(java "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
              -Djava.awt.headless=true "-Dkafka.logs.dir=$dir/logs"
              "-Dlog4j2.configurationFile=$ROOT/stack/kafka/log4j2.properties"
              -cp "$KAFKA_LIBS/*")
  if [ -f "$KAFKA_JMX_AGENT" ] && [ -n "${KAFKA_JMX_BASE:-}" ]; then
    java+=("-javaagent:$KAFKA_JMX_AGENT=127.0.0.1:$((KAFKA_JMX_BASE + i - 1)):$ROOT/stack/kafka/jmx-exporter.yaml")
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(kafka_cluster_id)
    local scram=()
    if kafka_sasl; then
      for u in admin broker $KAFKA_SERVICE_USERS; do scram+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$(kafka_secret "$u")]"); done
    fi
    # (The SCRAM passwords are on this one command line while it runs, about 2 s: StorageTool takes them no
    # other way. docs/DESIGN-NOTES.md, least privilege.)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" "${scram[@]}" \
      > "$dir/logs/format.log" 2>&1 || { cat "$dir/logs/format.log" >&2; die "kafka storage format failed (node $i)"; }
    if [ ${#scram[@]} -gt 0 ]; then touch "$dir/data/boxoffice-sasl"; fi
    kafka_shape > "$dir/shape"
  fi
  # Where this run's log starts: "Kafka Server started" of an earlier run must not count as ready.
  stat -c %s "$dir/logs/server.log" > "$dir/logs/start-offset" 2>/dev/null || echo 0 > "$dir/logs/start-offset"
  local mask; mask=$(umask); umask 027  # its logs 0640
  nohup "${java[@]}" kafka.Kafka "$dir/server.properties" > "$dir/logs/stdout.log" 2>&1 &
  echo $! > "$dir/kafka.pid"
  umask "$mask"
}

# One cluster id for all nodes, made once and kept with the stack (every node is formatted with it).
kafka_cluster_id() {
  local file=$STACK_DIR/kafka-cluster-id
  if [ ! -s "$file" ] || [ "$(sed -n 2p "$file")" != "$(kafka_shape)" ]; then
    # Like Kafka's own Uuid.randomUuid(): never one starting with "-", which the tool would take for an option.
    { python3 -c 'import base64,uuid
while (i := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(i)'; kafka_shape; } > "$file"
    log "new Kafka cluster id $(head -n 1 "$file") ($(kafka_shape))"
  fi
  head -n 1 "$file"
}

kafka_node_ready() {
  local dir; dir=$(kafka_dir "$1")
  pid_alive "$dir/kafka.pid" || { tail -n 30 "$dir/logs/stdout.log" >&2; die "kafka node $1 exited; see $dir/logs/server.log"; }
  port_open "$(kafka_port "$1")" || return 1
  # grep -c reads to the end: with `grep -q`, tail could die of SIGPIPE and fail the pipeline (pipefail).
  tail -c +"$(($(cat "$dir/logs/start-offset" 2>/dev/null || echo 0) + 1))" "$dir/logs/server.log" 2>/dev/null \
    | grep -c "Kafka Server started" >/dev/null
}

kafka_up() {
  local i
  # Format and start every node first: a quorum of controllers must be up before any broker is "started".
  for ((i = 1; i <= KAFKA_NODES; i++)); do kafka_node_up "$i"; done
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    wait_for "kafka node $i" "$(kafka_dir "$i")/logs/server.log" kafka_node_ready "$i"
  done
  kafka_acls
}

kafka_node_down() {
  local dir pid; dir=$(kafka_dir "$1")
  if pid_alive "$dir/kafka.pid"; then
    pid=$(cat "$dir/kafka.pid")
    kill "$pid"
    for _ in $(seq 1 150); do running "$pid" || break; sleep 0.2; done
    running "$pid" && { log "kafka node $1 did not stop in 30s, killing"; kill -9 "$pid"; }
    log "kafka node $1 stopped"
  fi
  rm -f "$dir/kafka.pid"
}

kafka_down() {
  local i
  # Brokers in parallel: one by one, each would wait for the others to move leadership away first.
  for ((i = KAFKA_NODES; i >= 1; i--)); do kafka_node_down "$i" & done
  wait
}

kafka_status() {
  local i dir
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    dir=$(kafka_dir "$i")
    if pid_alive "$dir/kafka.pid"; then echo "kafka node $i: running (127.0.0.1:$(kafka_port "$i"))"
    else echo "kafka node $i: stopped"; fi
  done
}
