package dev.outbox.spring.app;

import dev.outbox.Outbox;
import jakarta.persistence.PostPersist;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publishes from a JPA entity callback. Hibernate creates the listener through the Spring bean
 * container Boot gives it, which injects the {@link Outbox}. The shipment's id is assigned, so
 * Hibernate inserts it when it flushes, and this runs then: at the commit, after the transaction's
 * before-commit callbacks, unless something flushed earlier.
 */
public class ShipmentListener {

  private static final AtomicInteger published = new AtomicInteger();

  private final Outbox outbox;

  public ShipmentListener(Outbox outbox) {
    this.outbox = outbox;
  }

  @PostPersist
  void created(Shipment shipment) {
    outbox.publish(
        "shipments",
        shipment.getId(),
        new ShipmentCreated(shipment.getId(), shipment.getOrderId()));
    published.incrementAndGet();
  }

  /** How many shipments listeners have published so far. */
  public static int published() {
    return published.get();
  }
}
