#!/bin/bash
# B3 only, 2 runs per invocation: before = 82b7269, few = 0be148a (few held keys through <> ALL again;
# destinations); order before, few, few, before.
i=0
for d in /tmp/bench-before /tmp/bench-few /tmp/bench-few /tmp/bench-before; do
  i=$((i+1))
  name=$(basename $d)
  echo "=== $i $name $(cd $d && git log --oneline -1 | cut -c1-7) start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $d && benchmarks/run.sh --cases b3 --runs 2 > /work/notes/ab4/ab-$i-$name.log 2>&1; echo "rc=$?")
  grep -E 'run [0-9]|took' /work/notes/ab4/ab-$i-$name.log | cut -c1-260
  cp $d/benchmarks/.work/results.json /work/notes/ab4/ab-$i-$name.json
done
echo ALLDONE $(date -u +%H:%M:%S)
