package dev.outbox.examples.order;

import dev.outbox.inbox.IdempotentListener;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Completes the saga on the order side: {@code StockReserved} confirms the order, {@code
 * StockRejected} cancels it. {@link IdempotentListener} records each reply's {@code ce_id} in the
 * inbox in the same transaction as the order's new status, so a redelivered reply changes nothing.
 */
@Component
@ConditionalOnProperty(
    prefix = "outbox.kafka",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class StockReplyListener {

  /** The inbox consumer name of this listener. */
  public static final String CONSUMER = "order-service.stock-replies";

  private static final Logger log = LoggerFactory.getLogger(StockReplyListener.class);

  private final OrderService orders;
  private final JsonMapper json;

  public StockReplyListener(OrderService orders, JsonMapper json) {
    this.orders = orders;
    this.json = json;
  }

  @KafkaListener(topics = OrderService.REPLIES, groupId = "order-service")
  @IdempotentListener(consumer = CONSUMER)
  public void onStockReply(ConsumerRecord<String, String> record) {
    String type = header(record, "ce_type");
    switch (type) {
      case "StockReserved" -> {
        StockReserved reply = json.readValue(record.value(), StockReserved.class);
        orders.confirm(reply.orderId());
      }
      case "StockRejected" -> {
        StockRejected reply = json.readValue(record.value(), StockRejected.class);
        orders.cancel(reply.orderId(), reply.reason());
      }
      default -> log.warn("Ignoring event of type {} on {}", type, record.topic());
    }
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
  }
}
