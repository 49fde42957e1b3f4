package dev.outbox.kafka.e2e;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "shop_order")
public class ShopOrder {

  @Id private String id;
  private int quantity;

  protected ShopOrder() {}

  public ShopOrder(String id, int quantity) {
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
