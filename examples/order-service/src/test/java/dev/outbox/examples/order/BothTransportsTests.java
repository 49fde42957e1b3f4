package dev.outbox.examples.order;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.kafka.autoconfigure.OutboxKafkaAutoConfiguration;
import dev.outbox.rabbit.OutboxRabbitAutoConfiguration;
import dev.outbox.rabbit.RabbitOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import org.junit.jupiter.api.Test;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A service with both transports on its classpath, as this one has (docs/faq.md): with neither
 * switched off, one transport is registered, Kafka's; switching one off leaves the other.
 */
class BothTransportsTests {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  KafkaAutoConfiguration.class,
                  RabbitAutoConfiguration.class,
                  OutboxKafkaAutoConfiguration.class,
                  OutboxRabbitAutoConfiguration.class))
          .withPropertyValues(
              "spring.kafka.bootstrap-servers=127.0.0.1:9", "spring.rabbitmq.port=9");

  @Test
  void withBothEnabledOneTransportIsRegisteredKafkas() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(OutboxTransport.class);
          assertThat(context.getBean(OutboxTransport.class))
              .isInstanceOf(KafkaOutboxTransport.class);
        });
  }

  @Test
  void switchingKafkaOffLeavesRabbitMq() {
    runner
        .withPropertyValues("outbox.kafka.enabled=false")
        .run(
            context -> {
              assertThat(context).hasSingleBean(OutboxTransport.class);
              assertThat(context.getBean(OutboxTransport.class))
                  .isInstanceOf(RabbitOutboxTransport.class);
            });
  }
}
