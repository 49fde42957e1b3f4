#!/usr/bin/env bash
# Per-row server time of a one-row INSERT into the outbox table and into copies of it, as measured
# on 2026-12-03 (benchmarks/NOTES.md, "What a one-row INSERT costs the server"). Needs the database
# outbox_bench after a benchmark run (outbox_event and hand_event exist) and pg_stat_statements
# loaded (shared_preload_libraries). One client, 20 one-row INSERTs per transaction, rolled back;
# read mean_exec_time from pg_stat_statements afterwards. Drops its copies at the end.
set -euo pipefail
DB="-h 127.0.0.1 -U postgres -d outbox_bench"
PGB=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
P=$(python3 -c "print('{\"orderId\":\"' + 'x'*970 + '\"}')")
work=$(mktemp -d)
psql -q $DB <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- no CHECK constraints, generated slot column kept
CREATE TABLE ob_nochk (LIKE outbox_event INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING INDEXES);
-- no CHECK constraints, slot a plain column
CREATE TABLE ob_plain (LIKE outbox_event INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
-- ob_nochk plus one of the outbox table's checks each
CREATE TABLE c_key (LIKE ob_nochk INCLUDING ALL); ALTER TABLE c_key ADD CHECK (octet_length(event_key) <= 1024);
CREATE TABLE c_ver (LIKE ob_nochk INCLUDING ALL); ALTER TABLE c_ver ADD CHECK (event_version >= 1);
CREATE TABLE c_status (LIKE ob_nochk INCLUDING ALL); ALTER TABLE c_status ADD CHECK (status IN ('PENDING', 'DEAD'));
CREATE TABLE c_hdr (LIKE ob_nochk INCLUDING ALL); ALTER TABLE c_hdr ADD CHECK (jsonb_typeof(headers) = 'object' AND NOT jsonb_path_exists(headers, 'strict $.* ? (@.type() != "string")'));
-- the headers check with a short cut for empty headers
CREATE TABLE c_hdr2 (LIKE ob_nochk INCLUDING ALL); ALTER TABLE c_hdr2 ADD CHECK (jsonb_typeof(headers) = 'object' AND (headers = '{}'::jsonb OR NOT jsonb_path_exists(headers, 'strict $.* ? (@.type() != "string")')));
-- the four checks as one constraint
CREATE TABLE c_allchk (LIKE ob_plain INCLUDING ALL);
ALTER TABLE c_allchk ADD CHECK (status IN ('PENDING', 'DEAD') AND octet_length(event_key) <= 1024 AND event_version >= 1 AND jsonb_typeof(headers) = 'object' AND NOT jsonb_path_exists(headers, 'strict $.* ? (@.type() != "string")'));
-- the checks and the slot in a row trigger instead
CREATE TABLE c_trg (LIKE ob_plain INCLUDING ALL);
ALTER TABLE c_trg ADD CHECK (status IN ('PENDING', 'DEAD'));
CREATE FUNCTION c_trg_row() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF octet_length(NEW.event_key) > 1024 THEN RAISE EXCEPTION 'key' USING ERRCODE = 'check_violation'; END IF;
  IF NEW.event_version < 1 THEN RAISE EXCEPTION 'version' USING ERRCODE = 'check_violation'; END IF;
  IF NEW.headers <> '{}'::jsonb AND (jsonb_typeof(NEW.headers) <> 'object' OR jsonb_path_exists(NEW.headers, 'strict $.* ? (@.type() != "string")')) THEN RAISE EXCEPTION 'headers' USING ERRCODE = 'check_violation'; END IF;
  NEW.slot := get_byte(decode(md5(coalesce(NEW.event_key, NEW.id::text)), 'hex'), 0) & 63;
  RETURN NEW;
END $f$;
CREATE TRIGGER c_trg_row BEFORE INSERT OR UPDATE ON c_trg FOR EACH ROW EXECUTE FUNCTION c_trg_row();
SQL
COLS="(id, destination, event_key, aggregate_type, event_type, event_version, payload, headers, created_at)"
script() { # name statement-with-KK
  { echo '\set k random(1, 10000)'; echo 'BEGIN;'
    for i in $(seq 20); do echo "$2" | sed "s/KK/(:k + $i)/g"; done
    echo 'ROLLBACK;'; } > "$work/$1.sql"; }
for t in hand_event ob_plain ob_nochk c_key c_ver c_status c_hdr c_hdr2 c_allchk c_trg outbox_event; do
  script "$t" "INSERT INTO $t $COLS VALUES (gen_random_uuid(), 'orders', 'order-' || KK, NULL, 'OrderPlaced', 1, '$P', '{}'::jsonb, now());"
done
# the library's statement: the key's advisory lock taken in a sub-select of the INSERT
script lock "INSERT INTO outbox_event $COLS SELECT gen_random_uuid(), 'orders', 'order-' || KK, NULL, 'OrderPlaced', 1, '$P', '{}'::jsonb, now() FROM (SELECT pg_advisory_xact_lock(12345, hashtext('order-' || KK))) AS key_lock;"
script lockonly "SELECT pg_advisory_xact_lock(12345, hashtext('order-' || KK));"
psql -q $DB -c "SELECT pg_stat_statements_reset()" > /dev/null
for round in 1 2; do
  for s in hand_event ob_plain ob_nochk c_key c_ver c_status c_hdr c_hdr2 c_allchk c_trg outbox_event lock lockonly; do
    $PGB -n $DB -M prepared -c 1 -T 4 -f "$work/$s.sql" > /dev/null 2>&1
  done
done
psql $DB -c "SELECT calls, round(mean_exec_time::numeric * 1000, 1) AS mean_us, left(regexp_replace(query, '\s+', ' ', 'g'), 30) || ' … ' || right(regexp_replace(query, '\s+', ' ', 'g'), 24) AS statement FROM pg_stat_statements WHERE calls > 1000 ORDER BY query"
psql -q $DB -c "DROP TABLE ob_nochk, ob_plain, c_key, c_ver, c_status, c_hdr, c_hdr2, c_allchk, c_trg; DROP FUNCTION c_trg_row()"
rm -rf "$work"
