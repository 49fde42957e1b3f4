#!/bin/bash
# Runs 5 and 6 (before, after): run 1 overlapped a package install and a Maven build on this machine.
while ! grep -q ALLDONE /work/notes/ab2/ab.log; do sleep 5; done
i=4
for d in /tmp/bench-before /tmp/bench-after; do
  i=$((i+1))
  name=$(basename $d)
  echo "=== $i $name $(cd $d && git log --oneline -1 | cut -c1-7) start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $d && benchmarks/run.sh --cases b2,b3,b4-kafka-100k,b4-kafka --runs 1 > /work/notes/ab2/ab-$i-$name.log 2>&1; echo "rc=$?")
  grep -E 'run [0-9]|took' /work/notes/ab2/ab-$i-$name.log | cut -c1-260
  cp $d/benchmarks/.work/results.json /work/notes/ab2/ab-$i-$name.json
done
echo ALLDONE $(date -u +%H:%M:%S)
