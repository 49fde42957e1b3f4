-- The table accepts only rows the relay can publish, whoever writes them (this library, a script,
-- another service): the same limits the writer checks (dev.outbox.EventLimits) where SQL can express
-- them. A key is indexed with dead events, so it must stay well below PostgreSQL's limit on an index
-- entry; an event version starts at 1; headers are a JSON object of string values.

-- Rows written before this migration that break the new rules are reported, never changed: the
-- migration stops with what to look at, and nothing is lost.
DO $$
DECLARE
    bad bigint;
BEGIN
    SELECT count(*) INTO bad FROM ${outbox_table}
     WHERE octet_length(event_key) > 1024
        OR event_version < 1
        OR jsonb_typeof(headers) <> 'object'
        OR jsonb_path_exists(headers, 'strict $.* ? (@.type() != "string")');
    IF bad > 0 THEN
        RAISE EXCEPTION 'The outbox table ${outbox_table} holds % row(s) that break the constraints'
            ' this migration adds (event_key longer than 1024 bytes, event_version below 1, or'
            ' headers not a JSON object of strings). Publish or discard them first; find them with:'
            ' SELECT id, status FROM ${outbox_table} WHERE octet_length(event_key) > 1024 OR'
            ' event_version < 1 OR jsonb_typeof(headers) <> ''object'' OR jsonb_path_exists(headers,'
            ' ''strict $.* ? (@.type() != "string")'')', bad;
    END IF;
END
$$;

-- Added NOT VALID (no scan while adding), then validated. Both run in this migration's transaction,
-- so the table is locked for the scan of its rows; it holds only pending and dead events, so the
-- scan is short. docs/schema.md shows how to run the two steps separately on a large table.
ALTER TABLE ${outbox_table}
    ADD CONSTRAINT ${outbox_table_name}_event_key_length
        CHECK (octet_length(event_key) <= 1024) NOT VALID,
    ADD CONSTRAINT ${outbox_table_name}_event_version_positive
        CHECK (event_version >= 1) NOT VALID,
    ADD CONSTRAINT ${outbox_table_name}_headers_string_object
        CHECK (jsonb_typeof(headers) = 'object'
               AND NOT jsonb_path_exists(headers, 'strict $.* ? (@.type() != "string")')) NOT VALID;

ALTER TABLE ${outbox_table} VALIDATE CONSTRAINT ${outbox_table_name}_event_key_length;
ALTER TABLE ${outbox_table} VALIDATE CONSTRAINT ${outbox_table_name}_event_version_positive;
ALTER TABLE ${outbox_table} VALIDATE CONSTRAINT ${outbox_table_name}_headers_string_object;
