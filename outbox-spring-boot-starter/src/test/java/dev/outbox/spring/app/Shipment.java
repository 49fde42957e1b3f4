package dev.outbox.spring.app;

import jakarta.persistence.Entity;
import jakarta.persistence.EntityListeners;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An entity whose creation is published by a JPA callback ({@link ShipmentListener}). */
@Entity
@Table(name = "shipment")
@EntityListeners(ShipmentListener.class)
public class Shipment {

  @Id private String id;
  private String orderId;

  protected Shipment() {}

  public Shipment(String id, String orderId) {
    this.id = id;
    this.orderId = orderId;
  }

  public String getId() {
    return id;
  }

  public String getOrderId() {
    return orderId;
  }
}
