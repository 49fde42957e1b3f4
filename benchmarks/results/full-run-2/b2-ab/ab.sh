#!/bin/bash
i=0
for d in /tmp/ab-old /tmp/bench1 /tmp/bench1 /tmp/ab-old; do
  i=$((i+1))
  name=$(basename $d)
  echo "=== $i $name $(cd $d && git log --oneline -1 | cut -c1-7) start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $d && benchmarks/run.sh --cases b2 --runs 2 > /tmp/ab-$i-$name.log 2>&1; echo "rc=$?")
  grep -E '1000.0/s|200.0/s' /tmp/ab-$i-$name.log
  cp $d/benchmarks/.work/results.json /tmp/ab-$i-$name.json
done
echo ALLDONE $(date -u +%H:%M:%S)
