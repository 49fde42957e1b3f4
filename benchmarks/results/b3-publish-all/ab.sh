#!/bin/bash
for c in bB bA bA bB bB bA; do
  echo "== $c $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd /tmp/$c && benchmarks/run.sh --cases b3 --runs 1 -Dbench.profile=false 2>&1 | grep -E "/tx|error|ERROR|FAIL" )
done
echo "done $(date -u +%T)"
