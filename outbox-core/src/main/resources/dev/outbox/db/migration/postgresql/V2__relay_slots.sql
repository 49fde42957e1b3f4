-- Relay engine v2: keys hash into 64 slots; each slot is leased to at most one relay instance at a
-- time. The owner reads its slots' pending rows in write order over narrow columns, publishes
-- outside any transaction and completes with short statements fenced by the lease token.

-- The slot of a row: the low six bits of the first byte of the MD5 of its key (of its id when it has
-- none). Computed by the database, so every writer, including one that is not this library, gets it
-- right; the library computes the same in Java (dev.outbox.store.Slots) to wake the relay for just
-- the slots a transaction wrote.
ALTER TABLE ${outbox_table}
    ADD COLUMN slot smallint GENERATED ALWAYS AS
        ((get_byte(decode(md5(coalesce(event_key, id::text)), 'hex'), 0) & 63)) STORED;

-- The owner of a slot reads its pending rows in write order: an index range scan per slot.
CREATE INDEX ${outbox_table_name}_slot_idx ON ${outbox_table} (slot, seq) WHERE status = 'PENDING';

-- Replaced by the slot index: claims no longer scan all pending rows in sequence order, and keys
-- held back by a retry are found on the rows the owner reads.
DROP INDEX IF EXISTS ${outbox_table}_pending_idx;
DROP INDEX IF EXISTS ${outbox_table}_retrying_idx;

-- Relay instances. A member is alive while its lease is not expired and the database session it
-- registered from (pid + backend_start) still exists, so a killed instance is noticed at once and
-- a frozen one after its lease expires.
CREATE TABLE ${outbox_table}_relay (
    member        text        PRIMARY KEY,
    pid           integer     NOT NULL,
    backend_start timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);

-- Slot leases. The token changes whenever a slot changes owner; completions carry the token they
-- were read under, so an owner that lost a slot cannot complete its events.
CREATE TABLE ${outbox_table}_slot (
    slot  smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 63),
    owner text,
    token bigint   NOT NULL DEFAULT 0
);
INSERT INTO ${outbox_table}_slot (slot) SELECT generate_series(0, 63);

CREATE SEQUENCE ${outbox_table}_slot_token_seq;
