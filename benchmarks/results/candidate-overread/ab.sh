#!/usr/bin/env bash
# A = HEAD (overread 2x), B = overread 1.25x; order A B B A A B
set -u
mkdir -p /tmp/abres
i=0
for side in A B B A A B; do
  i=$((i+1))
  cd /tmp/ab$side
  echo "$(date -u +%T) invocation $i side $side" >> /tmp/abres/ab.log
  benchmarks/run.sh --cases b4-kafka-100k,b4-kafka,b6 --runs 2 -Dbench.profile=false -Dbench.b6-failover=false > /tmp/abres/run-$i-$side.log 2>&1
  cp benchmarks/.work/results.json /tmp/abres/results-$i-$side.json
  git checkout -q docs/benchmarks.md
done
echo "$(date -u +%T) done" >> /tmp/abres/ab.log
