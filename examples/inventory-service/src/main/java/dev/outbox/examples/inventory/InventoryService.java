package dev.outbox.examples.inventory;

import dev.outbox.Outbox;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Reserves stock for orders, with plain JDBC, and answers through the outbox. */
@Service
public class InventoryService {

  /**
   * Where the answers go: the Kafka topic the order service consumes, or the RabbitMQ exchange
   * (routing key: the event type).
   */
  public static final String REPLIES = "stock";

  private final JdbcClient jdbc;
  private final Outbox outbox;

  public InventoryService(JdbcClient jdbc, Outbox outbox) {
    this.jdbc = jdbc;
    this.outbox = outbox;
  }

  /**
   * Reserves {@code order}'s quantity if enough is available and publishes {@link StockReserved},
   * else publishes {@link StockRejected}. The stock change, the reservation and the answer commit
   * in the caller's transaction — for the listener, together with the inbox row of the message.
   */
  @Transactional
  public Object reserve(OrderPlaced order) {
    // One statement decides: concurrent reservations of one product cannot oversell.
    int updated =
        jdbc.sql(
                "UPDATE stock SET available = available - :quantity"
                    + " WHERE product = :product AND available >= :quantity")
            .param("quantity", order.quantity())
            .param("product", order.product())
            .update();
    Object answer;
    if (updated == 1) {
      jdbc.sql(
              "INSERT INTO reservations (order_id, product, quantity)"
                  + " VALUES (:orderId, :product, :quantity)")
          .param("orderId", order.orderId())
          .param("product", order.product())
          .param("quantity", order.quantity())
          .update();
      int remaining = level(order.product()).map(StockLevel::available).orElse(0);
      answer = new StockReserved(order.orderId(), order.product(), order.quantity(), remaining);
    } else {
      String reason =
          level(order.product())
              .map(
                  level ->
                      "insufficient stock: "
                          + level.available()
                          + " available, "
                          + order.quantity()
                          + " ordered")
              .orElse("unknown product");
      answer = new StockRejected(order.orderId(), order.product(), order.quantity(), reason);
    }
    outbox.publish(REPLIES, order.orderId().toString(), answer);
    return answer;
  }

  /** Sets the stock of {@code product} to {@code quantity}, as initial and available amount. */
  @Transactional
  public void stock(String product, int quantity) {
    if (quantity < 0) {
      throw new IllegalArgumentException(
          "The stock of " + product + " must be at least 0; got " + quantity);
    }
    jdbc.sql(
            "INSERT INTO stock (product, initial, available) VALUES (:product, :quantity, :quantity)"
                + " ON CONFLICT (product) DO UPDATE SET initial = :quantity, available = :quantity")
        .param("product", product)
        .param("quantity", quantity)
        .update();
  }

  /** The stock of {@code product}, if it is stocked. */
  public Optional<StockLevel> level(String product) {
    return jdbc.sql("SELECT product, initial, available FROM stock WHERE product = :product")
        .param("product", product)
        .query(StockLevel.class)
        .optional();
  }

  /** Every product's stock. */
  public List<StockLevel> levels() {
    return jdbc.sql("SELECT product, initial, available FROM stock ORDER BY product")
        .query(StockLevel.class)
        .list();
  }

  /** The reserved quantity of each order with a reservation. */
  public Map<UUID, Integer> reservations() {
    return jdbc.sql("SELECT order_id, quantity FROM reservations").query().listOfRows().stream()
        .collect(
            Collectors.toMap(
                row -> (UUID) row.get("order_id"),
                row -> ((Number) row.get("quantity")).intValue()));
  }
}
