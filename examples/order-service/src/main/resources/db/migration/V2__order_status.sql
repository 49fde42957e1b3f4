-- The saga's outcome: PENDING until the inventory answers, then CONFIRMED (stock reserved) or
-- CANCELLED (stock rejected; status_reason says why).
ALTER TABLE orders
    ADD COLUMN status        text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
    ADD COLUMN status_reason text;
