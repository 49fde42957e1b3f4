package dev.outbox.examples.inventory;

/**
 * The stock of one product.
 *
 * @param initial what was stocked
 * @param available what is left to reserve
 */
public record StockLevel(String product, int initial, int available) {}
