package dev.outbox.examples.inventory;

import dev.outbox.EventType;
import java.util.UUID;

/** Published when the stock of an order was reserved. */
@EventType(name = "StockReserved", version = 1)
public record StockReserved(UUID orderId, String product, int quantity, int remaining) {}
