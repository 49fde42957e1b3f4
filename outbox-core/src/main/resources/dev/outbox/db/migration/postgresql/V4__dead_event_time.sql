-- Dead events by the time they were dead-lettered (their last attempt; rows marked DEAD without one
-- count from their writing). Bulk replay/discard walk the dead events in this order, chunk by chunk,
-- and the retention of dead events (outbox.dead.retention) deletes the oldest first. Only DEAD rows
-- enter the index, so writing and publishing pending events never touch it.
CREATE INDEX ${outbox_table_name}_dead_at_idx ON ${outbox_table}
    ((coalesce(last_attempt_at, created_at)), seq) WHERE status = 'DEAD';
