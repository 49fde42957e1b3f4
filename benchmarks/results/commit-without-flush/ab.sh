#!/bin/bash
# A/B: before = 00e92e9 (synchronous deletes and renewals), after = 364166f; ABBA order.
i=0
for d in /tmp/ab-before /tmp/ab-after /tmp/ab-after /tmp/ab-before; do
  i=$((i+1))
  name=$(basename $d)
  echo "=== $i $name $(cd $d && git log --oneline -1 | cut -c1-7) start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $d && benchmarks/run.sh --cases b3,b4-kafka,b6,b4-rabbit --runs 2 > /work/notes/ab/ab-$i-$name.log 2>&1; echo "rc=$?")
  grep -E 'run [0-9]|took|failover' /work/notes/ab/ab-$i-$name.log | cut -c1-260
  cp $d/benchmarks/.work/results.json /work/notes/ab/ab-$i-$name.json
done
echo ALLDONE $(date -u +%H:%M:%S)
