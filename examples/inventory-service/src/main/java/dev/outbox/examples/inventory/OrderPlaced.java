package dev.outbox.examples.inventory;

import java.time.Instant;
import java.util.UUID;

/** The order service's event, as this service reads it from the {@code orders} topic. */
public record OrderPlaced(
    UUID orderId, String customerId, String product, int quantity, Instant placedAt) {}
