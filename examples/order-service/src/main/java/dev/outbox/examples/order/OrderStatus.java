package dev.outbox.examples.order;

/** Where an order is in the order/inventory saga. */
public enum OrderStatus {
  /** Placed; the inventory has not answered yet. */
  PENDING,
  /** The inventory reserved the stock. */
  CONFIRMED,
  /** The inventory rejected the order (the compensation of the saga). */
  CANCELLED
}
