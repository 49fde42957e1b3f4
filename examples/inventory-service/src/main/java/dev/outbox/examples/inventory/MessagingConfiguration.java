package dev.outbox.examples.inventory;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The broker topology this service reads and writes, declared at startup by Spring Boot's {@code
 * KafkaAdmin} or {@code AmqpAdmin} if missing (the order service declares the same topics and
 * exchanges). The outbox itself declares nothing but its RabbitMQ dead-letter exchange.
 */
@Configuration(proxyBeanMethods = false)
public class MessagingConfiguration {

  /** Kafka: the {@code orders} topic it reads, the {@code stock} topic it answers on. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      prefix = "outbox.kafka",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class KafkaTopics {

    @Bean
    NewTopic ordersTopic() {
      return new NewTopic("orders", 3, (short) 1);
    }

    @Bean
    NewTopic stockTopic() {
      return new NewTopic(InventoryService.REPLIES, 3, (short) 1);
    }

    @Bean
    NewTopic stockDeadLetterTopic() {
      return new NewTopic(InventoryService.REPLIES + "-dlt", 1, (short) 1);
    }
  }

  /**
   * RabbitMQ: the topic exchanges {@code orders} and {@code stock} (the outbox routes each event by
   * its type), and this service's queue bound to {@code orders} with {@code OrderPlaced}. The queue
   * has a single active consumer, so that one order's messages are handled in order even with
   * several instances, and dead-letters what its listener rejects to {@code <queue>.dlq} through
   * the default exchange.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      prefix = "outbox.rabbit",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class RabbitTopology {

    /**
     * @param queue the queue name ({@code inventory-service.rabbit.queue})
     * @param expires {@code x-expires} of the queue and its dead-letter queue in milliseconds, 0
     *     for never ({@code inventory-service.rabbit.queue-expires-ms}; the saga demo's per-run
     *     queues use it so that a run killed before it deleted them leaves nothing behind)
     */
    @Bean
    Declarables inventoryTopology(
        @Value("${inventory-service.rabbit.queue}") String queue,
        @Value("${inventory-service.rabbit.queue-expires-ms:0}") int expires) {
      TopicExchange orders = new TopicExchange("orders", true, false);
      TopicExchange stock = new TopicExchange(InventoryService.REPLIES, true, false);
      String deadLetters = queue + ".dlq";
      Queue ordersQueue =
          withExpiry(QueueBuilder.durable(queue), expires)
              .singleActiveConsumer()
              .deadLetterExchange("")
              .deadLetterRoutingKey(deadLetters)
              .build();
      Queue deadLetterQueue = withExpiry(QueueBuilder.durable(deadLetters), expires).build();
      return new Declarables(
          orders,
          stock,
          ordersQueue,
          deadLetterQueue,
          BindingBuilder.bind(ordersQueue).to(orders).with("OrderPlaced"));
    }

    private static QueueBuilder withExpiry(QueueBuilder builder, int expires) {
      return expires > 0 ? builder.expires(expires) : builder;
    }
  }
}
