package dev.outbox.testing;

import dev.outbox.transport.OutboxTransport;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The test kit's transports: a {@link CapturingOutboxTransport} in place of the broker's (before
 * the Kafka and RabbitMQ auto-configurations, which back off when a transport exists), and the
 * duplicate-delivery wrapper. Imported by {@link AutoConfigureOutboxTest}.
 */
@AutoConfiguration(
    beforeName = {
      "dev.outbox.spring.OutboxAutoConfiguration",
      "dev.outbox.kafka.autoconfigure.OutboxKafkaAutoConfiguration",
      "dev.outbox.rabbit.OutboxRabbitAutoConfiguration"
    })
@EnableConfigurationProperties(OutboxTestProperties.class)
public class OutboxTestTransportAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(OutboxTransport.class)
  @ConditionalOnProperty(
      prefix = "outbox.test",
      name = "capture",
      havingValue = "true",
      matchIfMissing = true)
  CapturingOutboxTransport capturingOutboxTransport() {
    return new CapturingOutboxTransport();
  }

  @Bean
  static DuplicateDeliveryPostProcessor outboxDuplicateDeliveryPostProcessor(
      Environment environment) {
    return new DuplicateDeliveryPostProcessor(environment);
  }
}
