package dev.outbox.examples.order;

import dev.outbox.PublishEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders. */
@Service
public class OrderService {

  /** Where {@link OrderPlaced} events go: the Kafka topic, or the RabbitMQ exchange. */
  public static final String DESTINATION = "orders";

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
}
