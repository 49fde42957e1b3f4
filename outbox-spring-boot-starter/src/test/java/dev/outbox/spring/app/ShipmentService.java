package dev.outbox.spring.app;

import dev.outbox.PublishEvent;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Creates shipments; their event is written by {@link ShipmentListener} when Hibernate flushes. */
@Service
public class ShipmentService {

  @PersistenceContext private EntityManager entityManager;

  /**
   * Persists a shipment and returns how many events the listener had published when the method
   * returned, before the commit: the insert, and with it the callback, waits for the flush.
   */
  @Transactional
  public int createShipment(String id, String orderId) {
    entityManager.persist(new Shipment(id, orderId));
    return ShipmentListener.published();
  }

  /**
   * Places an order, whose event {@code @PublishEvent} writes before the commit, and ships it,
   * whose event the listener writes during the commit's flush: one transaction, two events.
   */
  @Transactional
  @PublishEvent(destination = "orders", key = "#result.orderId()")
  public OrderPlaced placeOrderAndShip(String orderId, String shipmentId) {
    entityManager.persist(new PurchaseOrder(orderId, 1));
    entityManager.persist(new Shipment(shipmentId, orderId));
    return new OrderPlaced(orderId, 1);
  }

  /** Persists a shipment and fails before the commit, so nothing is flushed. */
  @Transactional
  public void createShipmentThenFail(String id, String orderId) {
    entityManager.persist(new Shipment(id, orderId));
    throw new IllegalStateException("carrier unavailable");
  }
}
