package dev.outbox.examples.order;

import dev.outbox.inbox.IdempotentListener;
import java.nio.charset.StandardCharsets;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Completes the saga on the order side over RabbitMQ, as {@link StockReplyListener} does over Kafka
 * and under the same inbox consumer name. {@link IdempotentListener} takes the reply's id from
 * {@code message_id} and records it in the inbox in the same transaction as the order's new status.
 */
@Component
@ConditionalOnProperty(
    prefix = "outbox.rabbit",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class RabbitStockReplyListener {

  private final StockReplies replies;

  public RabbitStockReplyListener(StockReplies replies) {
    this.replies = replies;
  }

  @RabbitListener(queues = "${order-service.rabbit.queue}")
  @IdempotentListener(consumer = StockReplyListener.CONSUMER)
  public void onStockReply(Message message) {
    MessageProperties properties = message.getMessageProperties();
    replies.apply(
        String.valueOf(properties.getType()),
        new String(message.getBody(), StandardCharsets.UTF_8),
        "queue " + properties.getConsumerQueue());
  }
}
