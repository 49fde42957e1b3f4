#!/usr/bin/env bash
# A = HEAD (overread 2x), B = overread 1.25x; order A B B A A B
set -u
mkdir -p /tmp/abres100
i=0
for side in A B B A A B; do
  i=$((i+1))
  cd /tmp/ab$side
  echo "$(date -u +%T) invocation $i side $side" >> /tmp/abres100/ab.log
  benchmarks/run.sh --cases b4-kafka-100k,b4-kafka --runs 1 -Dbench.profile=false -Dbench.keys=100 > /tmp/abres100/run-$i-$side.log 2>&1
  cp benchmarks/.work/results.json /tmp/abres100/results-$i-$side.json
  git checkout -q docs/benchmarks.md
done
echo "$(date -u +%T) done" >> /tmp/abres100/ab.log
