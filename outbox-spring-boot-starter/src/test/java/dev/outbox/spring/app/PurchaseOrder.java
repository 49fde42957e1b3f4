package dev.outbox.spring.app;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "purchase_order")
public class PurchaseOrder {

  @Id private String id;
  private int quantity;

  protected PurchaseOrder() {}

  public PurchaseOrder(String id, int quantity) {
    this.id = id;
    this.quantity = quantity;
  }

  public String getId() {
    return id;
  }

  public int getQuantity() {
    return quantity;
  }
}
