#!/usr/bin/env bash
# Runs the benchmark suite (DESIGN.md B1-B7, side by side with Spring Modulith) and writes
# docs/benchmarks.md. One command, from a fresh clone:
#
#   benchmarks/run.sh              full suite, 3 runs per case (about 30 minutes on 2 cores)
#   benchmarks/run.sh --quick      small counts, 1 run per case (a few minutes): checks the harness
#   benchmarks/run.sh --cases b2,b4-kafka --runs 5 [-Dbench.b4-count=500000 ...]
#       cases: b1, b2 (open loop at 1,000/s and 200/s), b3 (closed loop; at 1 event/tx also with
#       the relay off, through the writer and hand-written), b4-kafka (1,000,000),
#       b4-kafka-100k (100,000), b4-kafka-100k-warm (100,000 after a 200,000 warm-up drain),
#       b4-rabbit (200,000), b5 (idle), b6 (1 vs 3 relay JVMs), b6-warm (the same, each
#       relay JVM warmed by a drain of its own first), modulith
#       (Spring Modulith side by side); the default is all of them. Not in the default:
#       b2-two (B2's 1,000/s with two instances, each with its relay, transactions alternating)
#   benchmarks/run.sh --report-only   rewrite docs/benchmarks.md from the last results (and NOTES.md)
#   -Doutbox.* and -Dspring.kafka.producer.* options reach every application JVM the suite starts
#   -Dbench.relay-jvm-options=-XX:+UseSerialGC,...  JVM options for the relay JVMs of B4, B6, B7
#   -Dbench.app-java=/usr/lib/jvm/<jdk>/bin/java   the java of the application JVMs (default: the suite's)
#
# Needs Java 17+, PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and RabbitMQ on
# 127.0.0.1:5672 (guest/guest); starts either if it is installed but stopped. Starts its own Kafka
# broker (Maven Central jars, KRaft, 127.0.0.1:19092, data in benchmarks/.work/) and stops it and
# every JVM it started on exit. If that port is taken (another run), set BENCH_KAFKA_PORT and
# BENCH_KAFKA_CONTROLLER_PORT to free ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/benchmarks/.work"
KAFKA_VERSION=4.1.2
KAFKA_PORT="${BENCH_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-19093}"
PGHOST=127.0.0.1
PGPORT=5432
DB=outbox_bench

props=()
REPORT_ONLY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick)
      props+=(-Dbench.runs=1 -Dbench.b1-seconds=3 -Dbench.b2-seconds=6 -Dbench.b2-warm-up-seconds=2 -Dbench.b3-seconds=4
              -Dbench.b4-count=20000 -Dbench.b4-100k-count=20000 -Dbench.b4-warm-up-count=20000 -Dbench.b4-rabbit-count=10000
              -Dbench.b5-seconds=5
              -Dbench.b6-count=30000 -Dbench.modulith-seconds=6 -Dbench.modulith-drain-count=2000)
      ;;
    --cases) props+=("-Dbench.cases=$2"); shift ;;
    --runs) props+=("-Dbench.runs=$2"); shift ;;
    -D*) props+=("$1") ;;
    --report-only) REPORT_ONLY=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p "$WORK/logs"

# The suite's classpath, read once the build below (or an earlier one) has written it. Jars only
# (the benchmarks' own jar, not target/classes): a JVM option of -Dbench.relay-jvm-options can then
# name an AOT cache or a CDS archive, which refuse a classpath with a non-empty directory.
suite_classpath() {
  echo "$ROOT/benchmarks/target/outbox-benchmarks.jar:$(cat "$ROOT/benchmarks/target/classpath.txt")"
}

if [[ "$REPORT_ONLY" == 1 ]]; then
  CP="$(suite_classpath)"
  exec java -cp "$CP" -Dbench.report-only=true -Dbench.work="$WORK" \
    -Dbench.report="$ROOT/docs/benchmarks.md" -Dbench.notes="$ROOT/benchmarks/NOTES.md" \
    dev.outbox.benchmarks.Suite
fi
KAFKA_PID=""
SUITE_PID=""

cleanup() {
  local status=$?
  if [[ -n "$SUITE_PID" ]] && kill -0 "$SUITE_PID" 2>/dev/null; then
    for child in $(ps -o pid= --ppid "$SUITE_PID" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
    kill "$SUITE_PID" 2>/dev/null || true
    wait "$SUITE_PID" 2>/dev/null || true
  fi
  if [[ -n "$KAFKA_PID" ]] && kill -0 "$KAFKA_PID" 2>/dev/null; then
    log "stopping the Kafka broker (pid $KAFKA_PID)"
    kill "$KAFKA_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    rm -rf "$WORK/kafka/data"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- services -----------------------------------------------------------------------------------
java -version 2>&1 | head -1 | grep -Eq 'version "(1[7-9]|2[0-9])' \
  || { echo "Java 17 or later is required as 'java'" >&2; exit 1; }

if ! port_open "$PGPORT"; then
  log "PostgreSQL does not answer on $PGPORT; trying to start it"
  pg_ctlcluster --skip-systemctl-redirect 15 main start || true
  for _ in $(seq 1 30); do port_open "$PGPORT" && break; sleep 1; done
fi
psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc 'SELECT 1' >/dev/null \
  || { echo "PostgreSQL on $PGHOST:$PGPORT (user postgres, trust) is required" >&2; exit 1; }
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  log "creating database $DB"
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc "CREATE DATABASE $DB"
fi

if ! port_open 5672; then
  log "RabbitMQ does not answer on 5672; trying to start it"
  rabbitmq-server -detached || true
  rabbitmqctl await_startup || true
fi
port_open 5672 || { echo "RabbitMQ on 127.0.0.1:5672 (guest/guest) is required" >&2; exit 1; }

# --- build --------------------------------------------------------------------------------------
cd "$ROOT"
log "building the library and benchmarks/ (./mvnw -Pbenchmarks)"
# -DskipTests rather than -Dmaven.test.skip: the transport modules need outbox-core's test jar.
./mvnw -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package \
  > "$WORK/logs/build.log" 2>&1 || { tail -50 "$WORK/logs/build.log"; exit 1; }

LIBS="$WORK/kafka/libs"
if [[ ! -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" || ! -f "$LIBS/kafka-tools-$KAFKA_VERSION.jar" ]]; then
  log "fetching the Kafka $KAFKA_VERSION broker jars from Maven Central"
  ./mvnw -B -q -f benchmarks/kafka-broker/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime > "$WORK/logs/kafka-fetch.log" 2>&1 \
    || { tail -50 "$WORK/logs/kafka-fetch.log"; exit 1; }
fi

# --- Kafka broker -------------------------------------------------------------------------------
if port_open "$KAFKA_PORT"; then
  echo "Port $KAFKA_PORT is taken; set BENCH_KAFKA_PORT to a free port" >&2; exit 1
fi
KDIR="$WORK/kafka"
rm -rf "$KDIR/data"
mkdir -p "$KDIR/data"
cat > "$KDIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KDIR/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
PROPS
log "formatting and starting the Kafka broker on 127.0.0.1:$KAFKA_PORT"
java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)" \
  -c "$KDIR/server.properties" > "$WORK/logs/kafka-format.log" 2>&1
java -Xms512m -Xmx1g -cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties" > "$WORK/logs/kafka.log" 2>&1 &
KAFKA_PID=$!
for _ in $(seq 1 120); do port_open "$KAFKA_PORT" && break; kill -0 "$KAFKA_PID" || break; sleep 0.5; done
port_open "$KAFKA_PORT" || { tail -30 "$WORK/logs/kafka.log"; echo "Kafka did not start" >&2; exit 1; }

# --- the suite ----------------------------------------------------------------------------------
# The JVMs append to their logs: start each run with none from an earlier run.
find "$WORK/logs" -name '*.log' ! -name 'build.log' ! -name 'kafka*.log' -delete
CP="$(suite_classpath)"
log "running the suite (progress below; raw results in benchmarks/.work/results.json)"
java -Xmx1g -cp "$CP" \
  -Dbench.jdbc-url="jdbc:postgresql://$PGHOST:$PGPORT/$DB?prepareThreshold=1" \
  -Dbench.kafka="127.0.0.1:$KAFKA_PORT" -Dbench.kafka-pid="$KAFKA_PID" \
  -Dbench.kafka-version="$KAFKA_VERSION" \
  -Dbench.git-commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  -Dbench.work="$WORK" -Dbench.report="$ROOT/docs/benchmarks.md" \
  -Dbench.notes="$ROOT/benchmarks/NOTES.md" \
  "${props[@]}" dev.outbox.benchmarks.Suite &
SUITE_PID=$!
wait "$SUITE_PID"
SUITE_PID=""
log "done: docs/benchmarks.md"
