package dev.outbox.examples.order;

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
 * The broker topology the service publishes to. The outbox does not create topics or exchanges;
 * Spring Boot's {@code KafkaAdmin} and {@code AmqpAdmin} declare these at startup.
 */
@Configuration(proxyBeanMethods = false)
public class MessagingConfiguration {

  /** Kafka: the {@code orders} topic and its dead-letter topic; the {@code stock} replies. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      prefix = "outbox.kafka",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class KafkaTopics {

    @Bean
    NewTopic ordersTopic() {
      return new NewTopic(OrderService.DESTINATION, 3, (short) 1);
    }

    @Bean
    NewTopic ordersDeadLetterTopic() {
      return new NewTopic(OrderService.DESTINATION + "-dlt", 1, (short) 1);
    }

    /** The inventory service's replies, which this service consumes. */
    @Bean
    NewTopic stockTopic() {
      return new NewTopic(OrderService.REPLIES, 3, (short) 1);
    }
  }

  /**
   * RabbitMQ: the topic exchanges {@code orders} and {@code stock} (the outbox routes each event by
   * its type, e.g. {@code OrderPlaced}), and this service's queue of the inventory's replies, bound
   * to {@code stock} with {@code StockReserved} and {@code StockRejected}. The queue has a single
   * active consumer, so that one order's replies are handled in order even with several instances,
   * and dead-letters what its listener rejects to {@code <queue>.dlq} through the default exchange.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      prefix = "outbox.rabbit",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class RabbitExchanges {

    @Bean
    TopicExchange ordersExchange() {
      return new TopicExchange(OrderService.DESTINATION, true, false);
    }

    /**
     * @param queue the queue name ({@code order-service.rabbit.queue})
     * @param expires {@code x-expires} of the queue and its dead-letter queue in milliseconds, 0
     *     for never ({@code order-service.rabbit.queue-expires-ms}; the saga demo's per-run queues
     *     use it so that a run killed before it deleted them leaves nothing behind)
     */
    @Bean
    Declarables stockRepliesTopology(
        @Value("${order-service.rabbit.queue}") String queue,
        @Value("${order-service.rabbit.queue-expires-ms:0}") int expires) {
      TopicExchange stock = new TopicExchange(OrderService.REPLIES, true, false);
      String deadLetters = queue + ".dlq";
      Queue replies =
          withExpiry(QueueBuilder.durable(queue), expires)
              .singleActiveConsumer()
              .deadLetterExchange("")
              .deadLetterRoutingKey(deadLetters)
              .build();
      return new Declarables(
          stock,
          replies,
          withExpiry(QueueBuilder.durable(deadLetters), expires).build(),
          BindingBuilder.bind(replies).to(stock).with("StockReserved"),
          BindingBuilder.bind(replies).to(stock).with("StockRejected"));
    }

    private static QueueBuilder withExpiry(QueueBuilder builder, int expires) {
      return expires > 0 ? builder.expires(expires) : builder;
    }
  }
}
