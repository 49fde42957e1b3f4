-- The inventory's own tables (its own database). The outbox and inbox tables are created by the
-- library's own migrations, with their own history tables.
CREATE TABLE stock (
    product    text    PRIMARY KEY,
    initial    integer NOT NULL CHECK (initial >= 0),
    available  integer NOT NULL CHECK (available >= 0)
);

-- One row per order whose stock is reserved.
CREATE TABLE reservations (
    order_id    uuid        PRIMARY KEY,
    product     text        NOT NULL REFERENCES stock (product),
    quantity    integer     NOT NULL CHECK (quantity > 0),
    reserved_at timestamptz NOT NULL DEFAULT now()
);
