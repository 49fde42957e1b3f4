package dev.outbox.examples.order;

import dev.outbox.PublishEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders. */
@Service
public class OrderService {

  private static final Logger log = LoggerFactory.getLogger(OrderService.class);

  /** Where {@link OrderPlaced} events go: the Kafka topic, or the RabbitMQ exchange. */
  public static final String DESTINATION = "orders";

  /** Where the inventory service publishes its answers ({@code StockReserved}/{@code Rejected}). */
  public static final String REPLIES = "stock";

  private final OrderRepository orders;
  private final Clock clock;

  public OrderService(OrderRepository orders) {
    this.orders = orders;
    this.clock = Clock.systemUTC();
  }

  /**
   * Stores the order and, in the same transaction, writes an {@link OrderPlaced} event to the
   * outbox: both commit or neither does. The relay publishes the event to {@code orders} after the
   * commit, keyed by the order id so that the events of one order stay in order.
   */
  @Transactional
  @PublishEvent(destination = DESTINATION, key = "#result.orderId()")
  public OrderPlaced placeOrder(PlaceOrder command) {
    if (command.customerId() == null || command.customerId().isBlank()) {
      throw new IllegalArgumentException("customerId is required");
    }
    if (command.product() == null || command.product().isBlank()) {
      throw new IllegalArgumentException("product is required");
    }
    if (command.quantity() < 1) {
      throw new IllegalArgumentException("quantity must be at least 1");
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    Order order =
        orders.save(
            new Order(
                UUID.randomUUID(),
                command.customerId(),
                command.product(),
                command.quantity(),
                now));
    return new OrderPlaced(
        order.getId(),
        order.getCustomerId(),
        order.getProduct(),
        order.getQuantity(),
        order.getPlacedAt());
  }

  /**
   * The inventory reserved the stock: the order is confirmed. Runs in the caller's transaction (the
   * reply listener's, which also records the reply in the inbox).
   *
   * @return whether the order changed
   */
  @Transactional
  public boolean confirm(UUID orderId) {
    return complete(orderId, OrderStatus.CONFIRMED, null);
  }

  /**
   * The inventory rejected the order: it is cancelled, the compensating step of the saga.
   *
   * @return whether the order changed
   */
  @Transactional
  public boolean cancel(UUID orderId, String reason) {
    return complete(orderId, OrderStatus.CANCELLED, reason);
  }

  private boolean complete(UUID orderId, OrderStatus status, @Nullable String reason) {
    Order order =
        orders
            .findById(orderId)
            .orElseThrow(() -> new IllegalStateException("No order " + orderId + " to " + status));
    if (!order.complete(status, reason)) {
      // The inbox filters redelivered replies; this guards against contradicting ones.
      log.warn(
          "Order {} is {} already; ignoring the request to make it {}",
          orderId,
          order.getStatus(),
          status);
      return false;
    }
    return true;
  }
}
