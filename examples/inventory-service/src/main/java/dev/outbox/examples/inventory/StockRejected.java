package dev.outbox.examples.inventory;

import dev.outbox.EventType;
import java.util.UUID;

/** Published when an order could not be served: unknown product or not enough stock. */
@EventType(name = "StockRejected", version = 1)
public record StockRejected(UUID orderId, String product, int quantity, String reason) {}
