#!/bin/bash
# wal_compression off vs lz4 (server setting), library of b517297, ABBA order.
while ! grep -q ALLDONE /work/notes/ab/ab.log; do sleep 10; done
i=0
for mode in off lz4 lz4 off; do
  i=$((i+1))
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET wal_compression = '$mode'" -c "SELECT pg_reload_conf()" > /dev/null
  sleep 1
  echo "=== $i wal_compression=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW wal_compression') start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd /tmp/walc && benchmarks/run.sh --cases b4-kafka,b4-kafka-100k --runs 2 > /work/notes/walc/walc-$i-$mode.log 2>&1; echo "rc=$?")
  grep -E 'run [0-9]|took' /work/notes/walc/walc-$i-$mode.log | cut -c1-260
  cp /tmp/walc/benchmarks/.work/results.json /work/notes/walc/walc-$i-$mode.json
done
psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM RESET wal_compression" -c "SELECT pg_reload_conf()" > /dev/null
echo "reset: wal_compression=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW wal_compression')"
echo ALLDONE $(date -u +%H:%M:%S)
