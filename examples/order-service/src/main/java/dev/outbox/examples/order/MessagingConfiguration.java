package dev.outbox.examples.order;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.amqp.core.TopicExchange;
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

  /** RabbitMQ: the {@code orders} exchange; events are routed by type ({@code OrderPlaced}). */
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
  }
}
