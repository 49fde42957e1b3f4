package dev.outbox.examples.order;

import java.util.UUID;

/**
 * The inventory service's answer when it reserved the stock of an order (the order service's view
 * of the event; only the fields it reads).
 */
public record StockReserved(UUID orderId, String product, int quantity) {}
