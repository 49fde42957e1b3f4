package dev.outbox.spring.app;

import dev.outbox.EventType;

@EventType(name = "OrderPlaced", version = 2)
public record OrderPlaced(String orderId, int quantity) {}
