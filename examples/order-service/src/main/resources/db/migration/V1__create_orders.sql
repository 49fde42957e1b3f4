-- The application's own table. The outbox table is created by the library's own migrations
-- (location classpath:dev/outbox/db/migration, history table outbox_event_schema_history).
CREATE TABLE orders (
    id          uuid        PRIMARY KEY,
    customer_id text        NOT NULL,
    product     text        NOT NULL,
    quantity    integer     NOT NULL CHECK (quantity > 0),
    placed_at   timestamptz NOT NULL
);
