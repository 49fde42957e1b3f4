#!/usr/bin/env bash
# Server time of a one-row INSERT when the outbox table's checks are domain constraints instead of
# table CHECK constraints (benchmarks/NOTES.md, "B3: where the relay's share goes; checks as
# domains", 2026-12-03). Needs the database outbox_bench after a benchmark run (outbox_event and
# hand_event exist) and pg_stat_statements loaded (shared_preload_libraries). One client, 20 one-row
# INSERTs per transaction, rolled back, 3 interleaved rounds of 4 s per variant; reads the mean
# server time per INSERT from pg_stat_statements. Drops its tables and domains at the end.
set -euo pipefail
DB="-h 127.0.0.1 -U postgres -d outbox_bench"
PGB=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
P=$(python3 -c "print('{\"orderId\":\"' + 'x'*970 + '\"}')")
SLOT="(get_byte(decode(md5(coalesce(event_key, id::text)), 'hex'), 0) & 63)"
work=$(mktemp -d)
psql -q -v ON_ERROR_STOP=1 $DB <<SQL
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE DOMAIN d_status AS text CHECK (VALUE IN ('PENDING', 'DEAD'));
CREATE DOMAIN d_key AS text CHECK (octet_length(VALUE) <= 1024);
CREATE DOMAIN d_version AS integer CHECK (VALUE >= 1);
CREATE DOMAIN d_headers AS jsonb CHECK (jsonb_typeof(VALUE) = 'object'
    AND NOT jsonb_path_exists(VALUE, 'strict \$.* ? (@.type() != "string")'));
-- no checks; slot a plain column / generated
CREATE TABLE ob_plain (LIKE outbox_event INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
CREATE TABLE ob_nochk (LIKE outbox_event INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING INDEXES);
-- the four checks as domains; slot a plain column
CREATE TABLE ob_dom_plain (LIKE ob_plain INCLUDING ALL);
ALTER TABLE ob_dom_plain ALTER status TYPE d_status, ALTER event_key TYPE d_key,
    ALTER event_version TYPE d_version, ALTER headers TYPE d_headers;
-- the four checks as domains; slot generated (a column used by a generated column cannot change
-- type, so the slot column is dropped and added again)
CREATE TABLE ob_dom (LIKE ob_dom_plain INCLUDING ALL);
ALTER TABLE ob_dom DROP COLUMN slot;
ALTER TABLE ob_dom ADD COLUMN slot smallint GENERATED ALWAYS AS ($SLOT) STORED;
CREATE INDEX ON ob_dom (slot, seq) WHERE status = 'PENDING';
-- status, version and headers as domains, the key's table CHECK kept; slot generated
CREATE TABLE ob_dom3 (LIKE ob_nochk INCLUDING ALL);
ALTER TABLE ob_dom3 ALTER status TYPE d_status, ALTER event_version TYPE d_version,
    ALTER headers TYPE d_headers, ADD CHECK (octet_length(event_key) <= 1024);
SQL
COLS="(id, destination, event_key, aggregate_type, event_type, event_version, payload, headers, created_at)"
script() { { echo '\set k random(1, 10000)'; echo 'BEGIN;'
    for i in $(seq 20); do echo "$2" | sed "s/KK/(:k + $i)/g"; done
    echo 'ROLLBACK;'; } > "$work/$1.sql"; }
T="hand_event ob_plain ob_nochk ob_dom_plain ob_dom ob_dom3 outbox_event"
for t in $T; do
  script "$t" "INSERT INTO $t $COLS VALUES (gen_random_uuid(), 'orders', 'order-' || KK, NULL, 'OrderPlaced', 1, '$P', '{}'::jsonb, now());"
done
psql -q $DB -c "SELECT pg_stat_statements_reset()" > /dev/null
for round in 1 2 3; do
  for s in $T; do $PGB -n $DB -M prepared -c 1 -T 4 -f "$work/$s.sql" > /dev/null 2>&1; done
done
psql $DB -c "SELECT calls, round(mean_exec_time::numeric * 1000, 1) AS mean_us, split_part(query, ' ', 3) AS target FROM pg_stat_statements WHERE query LIKE 'INSERT INTO%' AND calls > 1000 ORDER BY mean_exec_time"
psql -q $DB -c "DROP TABLE ob_plain, ob_nochk, ob_dom_plain, ob_dom, ob_dom3; DROP DOMAIN d_status, d_key, d_version, d_headers"
rm -rf "$work"
