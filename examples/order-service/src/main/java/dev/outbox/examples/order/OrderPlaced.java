package dev.outbox.examples.order;

import dev.outbox.EventType;
import java.time.Instant;
import java.util.UUID;

/** The event written to the outbox when an order was placed; its JSON is the message body. */
@EventType(name = "OrderPlaced", version = 1)
public record OrderPlaced(
    UUID orderId, String customerId, String product, int quantity, Instant placedAt) {}
