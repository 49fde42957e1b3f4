#!/bin/bash
# A/B: before = 82b7269 (a refusing topic holds up the keys queued behind it), after = 5c63a44
# (closures of refusing destinations, held keys left out through a hashed subplan); ABBA order.
i=0
for d in /tmp/bench-before /tmp/bench-after /tmp/bench-after /tmp/bench-before; do
  i=$((i+1))
  name=$(basename $d)
  echo "=== $i $name $(cd $d && git log --oneline -1 | cut -c1-7) start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $d && benchmarks/run.sh --cases b2,b3,b4-kafka-100k,b4-kafka --runs 1 > /work/notes/ab2/ab-$i-$name.log 2>&1; echo "rc=$?")
  grep -E 'run [0-9]|took' /work/notes/ab2/ab-$i-$name.log | cut -c1-260
  cp $d/benchmarks/.work/results.json /work/notes/ab2/ab-$i-$name.json
done
echo ALLDONE $(date -u +%H:%M:%S)
