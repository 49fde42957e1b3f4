package dev.outbox.examples.inventory;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The topics this service reads and writes, created at startup by Spring Boot's {@code KafkaAdmin}
 * if missing (the order service declares the same ones).
 */
@Configuration(proxyBeanMethods = false)
public class MessagingConfiguration {

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
