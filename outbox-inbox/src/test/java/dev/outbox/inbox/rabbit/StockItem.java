package dev.outbox.inbox.rabbit;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;

/** Stock of one SKU. */
@Entity
public class StockItem {

  @Id private String sku;

  private int reserved;

  protected StockItem() {}

  public StockItem(String sku) {
    this.sku = sku;
  }

  public void reserve(int quantity) {
    reserved += quantity;
  }

  public int getReserved() {
    return reserved;
  }
}
