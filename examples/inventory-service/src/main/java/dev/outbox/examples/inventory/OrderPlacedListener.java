package dev.outbox.examples.inventory;

import dev.outbox.inbox.IdempotentListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Consumes {@code OrderPlaced}. {@link IdempotentListener} inserts the record's {@code ce_id} into
 * the inbox and runs this method in the same transaction: the inbox row, the stock change and the
 * answer written to the outbox commit together, and a redelivered {@code OrderPlaced} is skipped.
 * Active with the Kafka transport; {@link RabbitOrderPlacedListener} is its RabbitMQ counterpart.
 */
@Component
@ConditionalOnProperty(
    prefix = "outbox.kafka",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
public class OrderPlacedListener {

  /** The inbox consumer name of this listener. */
  public static final String CONSUMER = "inventory-service.reserve-stock";

  private final InventoryService inventory;
  private final JsonMapper json;

  public OrderPlacedListener(InventoryService inventory, JsonMapper json) {
    this.inventory = inventory;
    this.json = json;
  }

  @KafkaListener(topics = "orders", groupId = "inventory-service")
  @IdempotentListener(consumer = CONSUMER)
  public void onOrderPlaced(ConsumerRecord<String, String> record) {
    inventory.reserve(json.readValue(record.value(), OrderPlaced.class));
  }
}
