package dev.outbox.inbox.kafka;

/** What the stock listener publishes through the outbox after reserving. */
public record StockReserved(String sku, int quantity) {}
