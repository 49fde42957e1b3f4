-- The inbox: one row per message a consumer has handled. ${inbox_table} is the (optionally
-- schema-qualified) table name and ${inbox_table_name} the bare name, used to name the index.
CREATE TABLE ${inbox_table} (
    consumer    text        NOT NULL,
    message_id  text        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

-- Retention deletes the oldest rows in batches.
CREATE INDEX ${inbox_table_name}_handled_at_idx ON ${inbox_table} (handled_at);
