package dev.outbox.inbox.kafka;

import dev.outbox.inbox.MissingMessageIdException;
import dev.outbox.inbox.RecordingInboxListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.FixedBackOff;

/**
 * A stock service consuming from Kafka with plain JDBC ({@code DataSourceTransactionManager}; JPA
 * is left out): idempotent listeners, an error handler that retries a few times and sends a message
 * without an id straight to its recoverer.
 */
@SpringBootApplication(
    excludeName = {
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"
    })
public class KafkaConsumerApplication {

  /** What the error handler gave up on. */
  public static final List<Exception> recovered = new CopyOnWriteArrayList<>();

  /** Failed deliveries as {@code key#attempt}. */
  public static final List<String> failedDeliveries = new CopyOnWriteArrayList<>();

  @Bean
  MeterRegistry meterRegistry() {
    return new SimpleMeterRegistry();
  }

  @Bean
  RecordingInboxListener recordingInboxListener() {
    return new RecordingInboxListener();
  }

  /** Containers whose listeners acknowledge each record themselves, committing it at once. */
  @Bean
  ConcurrentKafkaListenerContainerFactory<Object, Object> manualAckContainerFactory(
      ConcurrentKafkaListenerContainerFactoryConfigurer configurer,
      ConsumerFactory<Object, Object> consumerFactory) {
    ConcurrentKafkaListenerContainerFactory<Object, Object> factory =
        new ConcurrentKafkaListenerContainerFactory<>();
    configurer.configure(factory, consumerFactory);
    factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.MANUAL_IMMEDIATE);
    return factory;
  }

  @Bean
  CommonErrorHandler errorHandler() {
    DefaultErrorHandler handler =
        new DefaultErrorHandler((record, ex) -> recovered.add(ex), new FixedBackOff(0L, 5L));
    handler.addNotRetryableExceptions(MissingMessageIdException.class);
    handler.setRetryListeners(
        (record, ex, attempt) -> failedDeliveries.add(record.key() + "#" + attempt));
    return handler;
  }
}
