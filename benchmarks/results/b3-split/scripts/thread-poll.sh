#!/usr/bin/env bash
# Polls, about once a second (each pass takes longer under load), the CPU ticks of every thread of
# every java process and of every PostgreSQL backend (with its application_name) into the file $1.
# thread-cpu.py reads it.
out=$1
while true; do
  ts=$(date +%s.%N)
  for p in $(pgrep -f 'java'); do

    for t in /proc/$p/task/*; do
      read -r line < $t/stat 2>/dev/null || continue
      read -r comm < $t/comm 2>/dev/null
      rest=${line##*) }
      set -- $rest
      echo "$ts J $p ${t##*/} ${12} ${13} $comm"
    done
  done
  psql -h 127.0.0.1 -U postgres -d outbox_bench -Atc "select pid, coalesce(nullif(application_name,''),'-'), backend_type from pg_stat_activity" 2>/dev/null | while IFS='|' read -r pid app bt; do
    read -r line < /proc/$pid/stat 2>/dev/null || continue
    rest=${line##*) }; set -- $rest
    echo "$ts P $pid $pid ${12} ${13} ${app// /_}/${bt// /_}"
  done
  ps -eo pid,args | grep [j]ava | cut -c1-400 | sed "s/^/$ts C /" 
  sleep 1
done >> $out
