package dev.outbox.examples.order;

import dev.outbox.inbox.IdempotentListener;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Completes the saga on the order side over Kafka: {@code StockReserved} confirms the order, {@code
 * StockRejected} cancels it ({@link StockReplies}). {@link IdempotentListener} records each reply's
 * {@code ce_id} in the inbox in the same transaction as the order's new status, so a redelivered
 * reply changes nothing. {@link RabbitStockReplyListener} is its RabbitMQ counterpart.
 */
@Component
@ConditionalOnProperty(
    prefix = "outbox.kafka",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class StockReplyListener {

  /** The inbox consumer name of this listener (and of its RabbitMQ counterpart). */
  public static final String CONSUMER = "order-service.stock-replies";

  private final StockReplies replies;

  public StockReplyListener(StockReplies replies) {
    this.replies = replies;
  }

  @KafkaListener(topics = OrderService.REPLIES, groupId = "order-service")
  @IdempotentListener(consumer = CONSUMER)
  public void onStockReply(ConsumerRecord<String, String> record) {
    replies.apply(header(record, "ce_type"), record.value(), "topic " + record.topic());
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
  }
}
