#!/bin/bash
cd /tmp/bench
for i in 1 2 3; do
  for v in default w1; do
    extra=""; [ $v = w1 ] && extra="-Doutbox.relay.workers=1"
    echo "=== $i $v start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    benchmarks/run.sh --cases b3 --runs 1 -Dbench.b3-clients-batch=0 -Dbench.profile=false $extra > /work/notes/w1/$i-$v.log 2>&1; echo "rc=$?"
    grep -E 'run [0-9]|took' /work/notes/w1/$i-$v.log | cut -c1-300
    cp benchmarks/.work/results.json /work/notes/w1/$i-$v.json
  done
done
echo ALLDONE $(date -u +%H:%M:%S)
