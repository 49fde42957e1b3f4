package dev.outbox.examples.order;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** An order, stored by JPA in the application's own {@code orders} table. */
@Entity
@Table(name = "orders")
public class Order {

  @Id private UUID id;

  @Column(name = "customer_id", nullable = false)
  private String customerId;

  @Column(nullable = false)
  private String product;

  @Column(nullable = false)
  private int quantity;

  @Column(name = "placed_at", nullable = false)
  private Instant placedAt;

  @Column(nullable = false)
  private String status = OrderStatus.PENDING.name();

  @Column(name = "status_reason")
  private @Nullable String statusReason;

  protected Order() {}

  public Order(UUID id, String customerId, String product, int quantity, Instant placedAt) {
    this.id = id;
    this.customerId = customerId;
    this.product = product;
    this.quantity = quantity;
    this.placedAt = placedAt;
  }

  public UUID getId() {
    return id;
  }

  public String getCustomerId() {
    return customerId;
  }

  public String getProduct() {
    return product;
  }

  public int getQuantity() {
    return quantity;
  }

  public Instant getPlacedAt() {
    return placedAt;
  }

  public OrderStatus getStatus() {
    return OrderStatus.valueOf(status);
  }

  /** Why the order was cancelled, or {@code null}. */
  public @Nullable String getStatusReason() {
    return statusReason;
  }

  /**
   * Moves a pending order to {@code status}.
   *
   * @return whether it changed; {@code false} if the order had left {@code PENDING} already
   */
  boolean complete(OrderStatus status, @Nullable String reason) {
    if (getStatus() != OrderStatus.PENDING) {
      return false;
    }
    this.status = status.name();
    this.statusReason = reason;
    return true;
  }
}
