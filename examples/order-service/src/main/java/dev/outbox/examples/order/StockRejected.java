package dev.outbox.examples.order;

import java.util.UUID;

/**
 * The inventory service's answer when it could not reserve the stock of an order (the order
 * service's view of the event).
 */
public record StockRejected(UUID orderId, String product, int quantity, String reason) {}
