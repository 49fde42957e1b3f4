package dev.outbox.testing.shop;

import dev.outbox.Outbox;
import dev.outbox.OutboxMessage;
import dev.outbox.PublishEvent;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class OrderService {

  /** The event of a placed order. */
  public record OrderPlaced(String orderId, String sku, int quantity) {}

  /** The event of a cancelled order. */
  public record OrderCancelled(String orderId, String reason) {}

  private final JdbcClient jdbc;
  private final Outbox outbox;

  public OrderService(JdbcClient jdbc, Outbox outbox) {
    this.jdbc = jdbc;
    this.outbox = outbox;
  }

  @Transactional
  @PublishEvent(destination = "${shop.orders-topic:orders}", key = "#result.orderId()")
  public OrderPlaced place(String orderId, String sku, int quantity) {
    if (quantity <= 0) {
      throw new IllegalArgumentException("quantity must be positive, was " + quantity);
    }
    jdbc.sql("INSERT INTO shop_order (id, status) VALUES (?, 'PLACED')").params(orderId).update();
    return new OrderPlaced(orderId, sku, quantity);
  }

  @Transactional
  public void cancel(String orderId, String reason, String tenant) {
    jdbc.sql("UPDATE shop_order SET status = 'CANCELLED' WHERE id = ?").params(orderId).update();
    outbox.publish(
        OutboxMessage.of("orders", orderId, new OrderCancelled(orderId, reason))
            .withHeaders(Map.of("tenant", tenant)));
  }
}
