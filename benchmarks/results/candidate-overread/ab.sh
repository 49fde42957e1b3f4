#!/usr/bin/env bash
# Alternates two clones in the order A B B A A B: /tmp/abA at c5211ae (2x the batch's share of
# candidates per slot) and /tmp/abB, the same with overread-1.25.patch applied.
#   keys-10000: ab.sh /tmp/abres --cases b4-kafka-100k,b4-kafka,b6 --runs 2 -Dbench.profile=false -Dbench.b6-failover=false
#   keys-100:   ab.sh /tmp/abres100 --cases b4-kafka-100k,b4-kafka --runs 1 -Dbench.profile=false -Dbench.keys=100
set -u
out=$1; shift
mkdir -p "$out"
i=0
for side in A B B A A B; do
  i=$((i+1))
  cd /tmp/ab$side
  echo "$(date -u +%T) invocation $i side $side" >> "$out/ab.log"
  benchmarks/run.sh "$@" > "$out/run-$i-$side.log" 2>&1
  cp benchmarks/.work/results.json "$out/results-$i-$side.json"
  git checkout -q docs/benchmarks.md
done
echo "$(date -u +%T) done" >> "$out/ab.log"
