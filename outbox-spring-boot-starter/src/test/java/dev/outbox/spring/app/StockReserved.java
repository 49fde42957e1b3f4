package dev.outbox.spring.app;

public record StockReserved(String sku, int quantity) {}
