package dev.outbox.kafka.autoconfigure;

import dev.outbox.kafka.KafkaOutboxDefaults;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.kafka.KafkaTransportOptions;
import dev.outbox.transport.CloudEventSource;
import dev.outbox.transport.OutboxTransport;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Registers a {@link KafkaOutboxTransport} built from Spring Boot's Kafka {@link ProducerFactory}
 * ({@code spring.kafka.*}), unless the application defines an {@link OutboxTransport} itself or
 * sets {@code outbox.kafka.enabled=false}.
 */
@AutoConfiguration(after = KafkaAutoConfiguration.class)
@ConditionalOnClass(KafkaTemplate.class)
@ConditionalOnProperty(prefix = "outbox.kafka", name = "enabled", matchIfMissing = true)
@ConditionalOnBean(ProducerFactory.class)
@EnableConfigurationProperties(OutboxKafkaProperties.class)
public class OutboxKafkaAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(OutboxTransport.class)
  KafkaOutboxTransport kafkaOutboxTransport(
      ProducerFactory<?, ?> producerFactory,
      OutboxKafkaProperties properties,
      Environment environment) {
    String source =
        CloudEventSource.resolve(
            properties.getSource(),
            "outbox.kafka.source",
            environment.getProperty("spring.application.name"),
            KafkaOutboxDefaults.SOURCE);
    KafkaTransportOptions options = KafkaTransportOptions.defaults().withSource(source);
    try {
      options = options.withDeadLetterSuffix(properties.getDeadLetterSuffix());
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "Invalid outbox.kafka.dead-letter-suffix: " + ex.getMessage(), ex);
    }
    return KafkaOutboxTransport.create(producerFactory, options);
  }
}
