#!/usr/bin/env bash
# Alternates the JDK of the application JVMs in the order A B B A on one clone (the suite, the Kafka
# broker and PostgreSQL stay the same): A = the machine's Java 17 (the suite's own), B = Temurin 25.
#   ab.sh /tmp/jdkres --cases b4-kafka-100k,b4-kafka-100k-warm,b4-kafka,b6 --runs 2 -Dbench.profile=false -Dbench.b6-failover=false
set -u
out=$1; shift
mkdir -p "$out"
declare -A java=([A]="" [B]=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
i=0
for side in A B B A; do
  i=$((i+1))
  echo "$(date -u +%T) invocation $i side $side" >> "$out/ab.log"
  benchmarks/run.sh "$@" "-Dbench.app-java=${java[$side]}" > "$out/run-$i-$side.log" 2>&1
  cp benchmarks/.work/results.json "$out/results-$i-$side.json"
  git checkout -q docs/benchmarks.md
done
echo "$(date -u +%T) done" >> "$out/ab.log"
