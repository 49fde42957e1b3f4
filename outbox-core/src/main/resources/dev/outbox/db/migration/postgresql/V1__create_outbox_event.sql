-- The outbox table. ${outbox_table} is the (optionally schema-qualified) table name and
-- ${outbox_table_name} the bare name, used to name the indexes.
CREATE TABLE ${outbox_table} (
    id              uuid        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    destination     text        NOT NULL,
    event_key       text,
    aggregate_type  text,
    event_type      text        NOT NULL,
    event_version   integer     NOT NULL DEFAULT 1,
    payload         text        NOT NULL,
    headers         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    status          text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DEAD')),
    attempts        integer     NOT NULL DEFAULT 0,
    available_at    timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    last_attempt_at timestamptz
);

-- The claim reads pending rows in write order.
CREATE INDEX ${outbox_table_name}_pending_idx ON ${outbox_table} (seq) WHERE status = 'PENDING';

-- A claim leaves out keys whose earlier event waits for a retry. Only failed rows are in this
-- index, so it is tiny and new rows (attempts = 0) cost nothing to insert.
CREATE INDEX ${outbox_table_name}_retrying_idx ON ${outbox_table} (event_key, seq)
    WHERE status = 'PENDING' AND attempts > 0;

-- Dead events, for the operator's queries and for keys blocked by a dead event.
CREATE INDEX ${outbox_table_name}_dead_idx ON ${outbox_table} (event_key, seq) WHERE status = 'DEAD';

-- Published rows are deleted at once; vacuum often so dead tuples do not pile up.
ALTER TABLE ${outbox_table} SET (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 10000
);
