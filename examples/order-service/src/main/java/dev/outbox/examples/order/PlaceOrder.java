package dev.outbox.examples.order;

/**
 * The request to place an order; also the JSON body of {@code POST /orders}.
 *
 * @param customerId who orders
 * @param product what is ordered
 * @param quantity how many, at least 1
 */
public record PlaceOrder(String customerId, String product, int quantity) {}
