package dev.outbox.spring.app;

public record ShipmentCreated(String shipmentId, String orderId) {}
