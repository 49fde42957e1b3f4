#!/bin/bash
for r in 1 2; do
  for v in B A; do
    cd /tmp/ab$v
    s=$(date +%s)
    benchmarks/run.sh --cases b2,b3 --runs 1 -Dbench.b3-clients-batch=0 > /tmp/ab-$v-$r.log 2>&1
    echo "$v $r rc=$? secs=$(( $(date +%s) - s ))" >> /tmp/ab.log
    cp benchmarks/.work/results.json /tmp/ab-$v-$r.json
  done
done
