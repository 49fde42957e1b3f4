#!/usr/bin/env bash
# The relay JVMs on Temurin 25, without (A) and with (B) an AOT cache (JEP 483/514/515: classes
# loaded and linked, and method profiles, from a training drain), alternated A B B A on one clone.
# The cache is made first by one cold drain of 100,000 events with -XX:AOTCacheOutput:
#   benchmarks/run.sh --cases b4-kafka-100k --runs 1 -Dbench.profile=false \
#     -Dbench.app-java=$J25 -Dbench.relay-jvm-options=-XX:AOTCacheOutput=$CACHE
#   round 1: ab.sh OUT CACHE --cases b4-kafka-100k,b4-kafka,b6 --runs 2 -Dbench.profile=false -Dbench.b6-failover=false
#   rounds 2 and 3: ab.sh OUT CACHE --cases b4-kafka-100k --runs 3 -Dbench.profile=false
set -u
out=$1; cache=$2; shift 2
mkdir -p "$out"
J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
declare -A options=([A]="" [B]="-XX:AOTMode=on,-XX:AOTCache=$cache")
i=0
for side in A B B A; do
  i=$((i+1))
  echo "$(date -u +%T) invocation $i side $side" >> "$out/ab.log"
  benchmarks/run.sh "$@" "-Dbench.app-java=$J25" "-Dbench.relay-jvm-options=${options[$side]}" \
    > "$out/run-$i-$side.log" 2>&1
  cp benchmarks/.work/results.json "$out/results-$i-$side.json"
  git checkout -q docs/benchmarks.md
done
echo "$(date -u +%T) done" >> "$out/ab.log"
