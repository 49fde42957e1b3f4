package dev.outbox.kafka.e2e;

import dev.outbox.EventType;

@EventType(name = "OrderPlaced", version = 1)
public record OrderPlaced(String orderId, int quantity) {}
