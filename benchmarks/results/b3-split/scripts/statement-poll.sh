#!/usr/bin/env bash
# Polls pg_stat_statements about once a second into the file $1; statement-deltas.py reads it.
out=$1
while true; do
  psql -h 127.0.0.1 -U postgres -d outbox_bench -Atc "select extract(epoch from clock_timestamp()), left(regexp_replace(query, '\s+', ' ', 'g'), 40), calls, total_exec_time, total_plan_time, rows from pg_stat_statements where calls > 50" >> $out 2>/dev/null
  sleep 1
done
