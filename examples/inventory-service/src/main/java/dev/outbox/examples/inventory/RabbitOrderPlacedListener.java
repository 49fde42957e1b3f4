package dev.outbox.examples.inventory;

import dev.outbox.inbox.IdempotentListener;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Consumes {@code OrderPlaced} from RabbitMQ, as {@link OrderPlacedListener} does from Kafka, under
 * the same inbox consumer name. {@link IdempotentListener} takes the id from the message's {@code
 * message_id} (the outbox event id), inserts it into the inbox and runs this method in the same
 * transaction as the stock change and the answer written to the outbox.
 */
@Component
@ConditionalOnProperty(
    prefix = "outbox.rabbit",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class RabbitOrderPlacedListener {

  private final InventoryService inventory;
  private final JsonMapper json;

  public RabbitOrderPlacedListener(InventoryService inventory, JsonMapper json) {
    this.inventory = inventory;
    this.json = json;
  }

  @RabbitListener(queues = "${inventory-service.rabbit.queue}")
  @IdempotentListener(consumer = OrderPlacedListener.CONSUMER)
  public void onOrderPlaced(Message message) {
    inventory.reserve(json.readValue(message.getBody(), OrderPlaced.class));
  }
}
