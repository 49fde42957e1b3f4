#!/bin/bash
cd /tmp/gc
i=0
for opt in "" "-XX:+UseSerialGC" "-XX:+UseSerialGC" ""; do
  i=$((i+1))
  echo "=== $i options='$opt' start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  benchmarks/run.sh --cases b6,b6-warm --runs 2 -Dbench.b6-failover=false -Dbench.relay-jvm-options="$opt" > /tmp/gc-$i.log 2>&1; echo "rc=$?"
  grep -E 'instance\(s\)' /tmp/gc-$i.log
  cp benchmarks/.work/results.json /tmp/gc-$i.json
done
echo ALLDONE $(date -u +%H:%M:%S)
