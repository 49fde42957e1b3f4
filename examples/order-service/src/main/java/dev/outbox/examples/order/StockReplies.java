package dev.outbox.examples.order;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Applies one inventory reply to its order, whichever broker it came over: {@code StockReserved}
 * confirms the order, {@code StockRejected} cancels it (the compensation). Runs in the calling
 * listener's transaction.
 */
@Component
public class StockReplies {

  private static final Logger log = LoggerFactory.getLogger(StockReplies.class);

  private final OrderService orders;
  private final JsonMapper json;

  public StockReplies(OrderService orders, JsonMapper json) {
    this.orders = orders;
    this.json = json;
  }

  /**
   * @param type the event type of the reply ({@code ce_type} on Kafka, {@code type} on RabbitMQ)
   * @param body the reply's JSON
   * @param origin where it came from, for the log
   */
  public void apply(String type, String body, String origin) {
    switch (type) {
      case "StockReserved" -> orders.confirm(json.readValue(body, StockReserved.class).orderId());
      case "StockRejected" -> {
        StockRejected reply = json.readValue(body, StockRejected.class);
        orders.cancel(reply.orderId(), reply.reason());
      }
      default -> log.warn("Ignoring event of type {} on {}", type, origin);
    }
  }
}
