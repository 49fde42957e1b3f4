#!/usr/bin/env bash
# A fault drill of the order-service example against real services: two instances place orders
# under load while the broker goes away (Kafka: kill -9 of the broker, then a restart on the same
# data; RabbitMQ: `rabbitmqctl stop_app`, then `start_app`) and one instance is killed with kill -9
# and started again; with CRASH_POSTGRES=1, PostgreSQL then crashes (an immediate stop: every
# backend ends at once, no checkpoint, crash recovery from the WAL at the next start) and is started
# again. Then it checks, with plain broker clients, that every committed order has its
# event on the broker and that every event belongs to a committed order. Duplicates are expected
# (at least once) and counted.
#
#   examples/fault-drill/run.sh kafka|rabbit
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust or PGPASSWORD), and for `rabbit` a
# RabbitMQ broker on 127.0.0.1:5672 (guest/guest) that `rabbitmqctl` controls. For `kafka` it starts
# its own broker on 127.0.0.1:29092 from Maven Central jars. Exits 1 if anything is missing.
# With FREEZE_BROKER=1 the broker is not stopped but frozen: its process is stopped with SIGSTOP
# for DOWN_SECONDS (connections stay open, nothing answers) and resumed with SIGCONT.
# Settings (environment): LOAD_THREADS (per instance, 4), DOWN_SECONDS (broker down, 20),
# DRAIN_SECONDS (the most to wait for the outbox to empty at the end, 180), CRASH_POSTGRES (1 to
# crash PostgreSQL too, 0), PG_DOWN_SECONDS (PostgreSQL down, 5), PG_CLUSTER (the cluster that
# `pg_ctlcluster` crashes and starts, "<the only version under /etc/postgresql> main").
set -uo pipefail
broker="${1:-}"
[[ "$broker" == kafka || "$broker" == rabbit ]] || { echo "usage: $0 kafka|rabbit" >&2; exit 2; }
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/examples/fault-drill"
WORK="$HERE/.work/$broker"
THREADS="${LOAD_THREADS:-4}"
DOWN="${DOWN_SECONDS:-20}"
DRAIN="${DRAIN_SECONDS:-180}"
CRASH_PG="${CRASH_POSTGRES:-0}"
FREEZE="${FREEZE_BROKER:-0}"
PG_DOWN="${PG_DOWN_SECONDS:-5}"
DB=outbox_fault_drill
PSQL=(psql -h 127.0.0.1 -U "${PGUSER:-postgres}" -qAt)
KAFKA=127.0.0.1:29092
log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }
pids=()
rabbit_stopped=false
pg_stopped=false
frozen_pid=""
if [[ "$CRASH_PG" == 1 ]]; then
  read -r -a pg_cluster <<< "${PG_CLUSTER:-$(ls /etc/postgresql 2>/dev/null | head -1) main}"
  cluster_ctl() { pg_ctlcluster --skip-systemctl-redirect "${pg_cluster[@]}" "$@"; }
  cluster_ctl status > /dev/null 2>&1 \
    || { echo "CRASH_POSTGRES=1 needs pg_ctlcluster to control cluster '${pg_cluster[*]}' (set PG_CLUSTER)" >&2; exit 1; }
fi
# On any exit: stop the load, start RabbitMQ and PostgreSQL again if the drill stopped them, stop
# every process the drill started and that is still its own (a pid is dropped from the list once it
# was waited for).
cleanup() {
  [[ -d "$WORK" ]] && touch "$WORK/stop"
  if $rabbit_stopped; then rabbitmqctl start_app > /dev/null 2>&1; fi
  if [[ -n "$frozen_pid" ]]; then kill -CONT "$frozen_pid" 2>/dev/null; fi
  if $pg_stopped; then cluster_ctl start > /dev/null 2>&1; fi
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null; done
  for pid in ${pids[@]+"${pids[@]}"}; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
  done
}
forget() { # pid: waited for, so no longer ours to kill
  local kept=() pid
  for pid in ${pids[@]+"${pids[@]}"}; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
  pids=(${kept[@]+"${kept[@]}"})
}
trap cleanup EXIT
trap "exit 130" INT TERM

rm -rf "$WORK" && mkdir -p "$WORK"
cd "$ROOT"
log "building the order-service example and its classpath"
# One reactor run: each module writes the classpath file, order-service (which needs all the
# others) last.
./mvnw -B -q -pl examples/order-service -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$WORK/classpath.txt" > "$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log"; exit 1; }
CP="$(cat "$WORK/classpath.txt")"
JAR="$ROOT/examples/order-service/target/order-service.jar"

"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" || exit 1
broker_pid=""
start_kafka() {
  java -Xms512m -Xmx1g -cp "$WORK/kafka/libs/*" kafka.Kafka "$WORK/kafka/server.properties" \
    >> "$WORK/kafka.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  for _ in $(seq 1 60); do (echo > /dev/tcp/127.0.0.1/29092) 2>/dev/null && return 0; sleep 1; done
  echo "Kafka did not start; see $WORK/kafka.log" >&2; exit 1
}
if [[ "$broker" == kafka ]]; then
  log "starting a Kafka broker on $KAFKA"
  ./mvnw -B -q -f benchmarks/kafka-broker/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$WORK/kafka/libs" -DincludeScope=runtime >> "$WORK/build.log" 2>&1 \
    || { tail -30 "$WORK/build.log"; exit 1; }
  cat > "$WORK/kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:29093
listeners=PLAINTEXT://$KAFKA,CONTROLLER://127.0.0.1:29093
advertised.listeners=PLAINTEXT://$KAFKA
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$WORK/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
  java -cp "$WORK/kafka/libs/*" kafka.tools.StorageTool format -c "$WORK/kafka/server.properties" \
    -t "$(java -cp "$WORK/kafka/libs/*" kafka.tools.StorageTool random-uuid)" > /dev/null || exit 1
  start_kafka
  service_args=(--spring.kafka.bootstrap-servers="$KAFKA")
else
  rabbitmqctl await_startup > /dev/null 2>&1 || { echo "RabbitMQ is not running" >&2; exit 1; }
  java -cp "$CP" "$HERE/ReadRabbit.java" declare || exit 1
  service_args=(--spring.profiles.active=rabbit)
fi

start_service() { # port, log name; sets $started
  java -Xmx512m -jar "$JAR" --server.port="$1" --order-service.embedded.enabled=false \
    --spring.datasource.url="jdbc:postgresql://127.0.0.1:5432/$DB" \
    --spring.datasource.username="${PGUSER:-postgres}" --spring.datasource.password="${PGPASSWORD:-}" \
    "${service_args[@]}" ${SERVICE_ARGS:-} > "$WORK/$2.log" 2>&1 &
  started=$!
  pids+=("$started")
}
await_service() { # log name
  for _ in $(seq 1 180); do grep -q "Started OrderServiceApplication" "$WORK/$1.log" && return 0; sleep 1; done
  echo "the service did not start; see $WORK/$1.log" >&2; exit 1
}

log "starting two instances of order-service"
start_service 18081 instance-1
first=$started
start_service 18082 instance-2
await_service instance-1; await_service instance-2
log "placing orders with $THREADS threads per instance"
java "$HERE/PlaceOrders.java" http://localhost:18081 "$THREADS" "$WORK/placed.txt" "$WORK/stop" > "$WORK/load-1.txt" 2>&1 &
load1=$!
pids+=("$load1")
java "$HERE/PlaceOrders.java" http://localhost:18082 "$THREADS" "$WORK/placed.txt" "$WORK/stop" > "$WORK/load-2.txt" 2>&1 &
load2=$!
pids+=("$load2")
sleep 15
if [[ "$FREEZE" == 1 ]]; then
  if [[ "$broker" == kafka ]]; then
    frozen_pid="$broker_pid"
  else
    frozen_pid="$(pgrep -o -f 'beam.smp.*rabbit' || true)"
    [[ -n "$frozen_pid" ]] || { echo "FREEZE_BROKER=1 found no RabbitMQ process (beam.smp)" >&2; exit 1; }
  fi
  log "SIGSTOP of the $broker broker (pid $frozen_pid); it stays frozen ${DOWN}s"
  kill -STOP "$frozen_pid" || { echo "could not stop process $frozen_pid with SIGSTOP" >&2; frozen_pid=""; exit 1; }
  sleep "$DOWN"
  kill -CONT "$frozen_pid"
  frozen_pid=""
  log "SIGCONT of the $broker broker"
elif [[ "$broker" == kafka ]]; then
  log "kill -9 of the Kafka broker (pid $broker_pid); it stays down ${DOWN}s"
  kill -9 "$broker_pid"
  wait "$broker_pid" 2>/dev/null
  forget "$broker_pid"
  sleep "$DOWN"
  start_kafka
  log "Kafka broker started again on the same data"
else
  log "rabbitmqctl stop_app; RabbitMQ stays down ${DOWN}s"
  rabbitmqctl stop_app > /dev/null || { echo "rabbitmqctl stop_app failed" >&2; exit 1; }
  rabbit_stopped=true
  sleep "$DOWN"
  rabbitmqctl start_app > /dev/null || { echo "rabbitmqctl start_app failed" >&2; exit 1; }
  rabbit_stopped=false
  log "rabbitmqctl start_app"
fi
sleep 15
log "kill -9 of instance 1 (pid $first)"
kill -9 "$first"
wait "$first" 2>/dev/null
forget "$first"
sleep 5
start_service 18081 instance-1-restarted
first=$started
await_service instance-1-restarted
log "instance 1 started again"
sleep 15
if [[ "$CRASH_PG" == 1 ]]; then
  log "PostgreSQL crashes (pg_ctlcluster ${pg_cluster[*]} stop -m immediate); it stays down ${PG_DOWN}s"
  cluster_ctl stop -m immediate > /dev/null || { echo "pg_ctlcluster stop failed" >&2; exit 1; }
  pg_stopped=true
  sleep "$PG_DOWN"
  cluster_ctl start > /dev/null || { echo "pg_ctlcluster start failed" >&2; exit 1; }
  pg_stopped=false
  log "PostgreSQL started again (crash recovery)"
  sleep 15
fi
touch "$WORK/stop"
wait "$load1" "$load2"
forget "$load1"
forget "$load2"
log "load stopped: $(cat "$WORK/load-1.txt" "$WORK/load-2.txt" | tr '\n' ' ')"

number() { [[ "$1" =~ ^[0-9]+$ ]] && echo "$1" || echo -1; } # -1 when the query failed
pending=-1
for _ in $(seq 1 "$DRAIN"); do
  pending=$(number "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM outbox_event WHERE status = 'PENDING'")")
  (( pending == 0 )) && break
  sleep 1
done
dead=$(number "$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM outbox_event WHERE status = 'DEAD'")")
log "outbox: $pending pending, $dead dead"
if [[ "$broker" == kafka ]]; then
  java -cp "$CP" "$HERE/ReadKafka.java" "$KAFKA" "$WORK/received.txt" > "$WORK/reader.log" 2>&1
else
  java -cp "$CP" "$HERE/ReadRabbit.java" "$WORK/received.txt" > "$WORK/reader.log" 2>&1
fi || { tail -30 "$WORK/reader.log"; exit 1; }
grep '^read ' "$WORK/reader.log"
"${PSQL[@]}" -d $DB -c "SELECT id FROM orders" | sort > "$WORK/committed.txt"
sort -u "$WORK/placed.txt" > "$WORK/answered.txt"
awk '{print $2}' "$WORK/received.txt" | sort -u > "$WORK/received-orders.txt"
count() { wc -l | tr -d ' '; }
missing=$(comm -23 "$WORK/committed.txt" "$WORK/received-orders.txt" | count)
phantom=$(comm -13 "$WORK/committed.txt" "$WORK/received-orders.txt" | count)
lost_answers=$(comm -23 "$WORK/answered.txt" "$WORK/committed.txt" | count)
messages=$(count < "$WORK/received.txt")
ids=$(awk '{print $1}' "$WORK/received.txt" | sort -u | count)
orders=$(count < "$WORK/committed.txt")
echo
echo "committed orders:                         $orders"
echo "orders answered 201:                      $(count < "$WORK/answered.txt")"
echo "messages read:                            $messages ($ids distinct ids, $((messages - ids)) duplicates)"
echo "committed orders without a message:       $missing"
echo "messages for orders never committed:      $phantom"
echo "orders answered 201 but not committed:    $lost_answers"
echo "outbox rows pending / dead at the end:    $pending / $dead"
charged=$(cat "$WORK"/instance-*.log | grep -o '[0-9]* event(s) failed and will be retried' | awk '{n += $1} END {print n + 0}')
echo "events charged an attempt (retried):      $charged"
grep -h 'broker failing\|broker recovered' "$WORK"/instance-*.log | cut -c1-160
if (( missing == 0 && phantom == 0 && lost_answers == 0 && pending == 0 && dead == 0 && ids == orders )); then
  echo "PASSED: every committed order's event is on the broker, and nothing else"
  exit 0
fi
echo "FAILED (logs in $WORK)"
exit 1
