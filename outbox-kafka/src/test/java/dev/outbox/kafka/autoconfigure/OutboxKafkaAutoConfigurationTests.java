package dev.outbox.kafka.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import dev.outbox.kafka.KafkaOutboxDefaults;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.KafkaTemplate;

class OutboxKafkaAutoConfigurationTests {

  private final ApplicationContextRunner contextRunner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  KafkaAutoConfiguration.class, OutboxKafkaAutoConfiguration.class))
          .withPropertyValues("spring.kafka.bootstrap-servers=127.0.0.1:9");

  @Test
  void registersAKafkaTransportBuiltFromBootsProducerSettings() {
    contextRunner.run(
        context -> {
          assertThat(context).hasSingleBean(OutboxTransport.class);
          KafkaOutboxTransport transport = context.getBean(KafkaOutboxTransport.class);
          assertThat(transport.producerConfiguration())
              .containsEntry("bootstrap.servers", java.util.List.of("127.0.0.1:9"));
          assertThat(transport.options().deadLetterSuffix())
              .isEqualTo(KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
          assertThat(transport.options().source()).isEqualTo(KafkaOutboxDefaults.SOURCE);
        });
  }

  @Test
  void backsOffWhenSpringKafkaIsNotOnTheClasspath() {
    contextRunner
        .withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
        .run(context -> assertThat(context).doesNotHaveBean(OutboxTransport.class));
  }

  @Test
  void backsOffWhenDisabled() {
    contextRunner
        .withPropertyValues("outbox.kafka.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OutboxTransport.class));
  }

  @Test
  void backsOffWithoutAProducerFactory() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxKafkaAutoConfiguration.class))
        .run(context -> assertThat(context).doesNotHaveBean(OutboxTransport.class));
  }

  @Test
  void backsOffWhenTheApplicationDefinesATransport() {
    contextRunner
        .withUserConfiguration(OwnTransport.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(OutboxTransport.class);
              assertThat(context).doesNotHaveBean(KafkaOutboxTransport.class);
              assertThat(context.getBean(OutboxTransport.class))
                  .isSameAs(context.getBean(OwnTransport.class).transport);
            });
  }

  @Test
  void forcesDurableIdempotentNonTransactionalSendsWhateverTheApplicationConfigures() {
    contextRunner
        .withPropertyValues(
            "spring.kafka.producer.acks=1",
            "spring.kafka.producer.retries=0",
            "spring.kafka.producer.transaction-id-prefix=tx-",
            "spring.kafka.producer.properties.enable.idempotence=false",
            "spring.kafka.producer.properties.max.in.flight.requests.per.connection=20")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).producerConfiguration())
                    .containsEntry("acks", "all")
                    .containsEntry("enable.idempotence", true)
                    .containsEntry("max.in.flight.requests.per.connection", 5)
                    .doesNotContainKeys("transactional.id", "retries"));
  }

  @Test
  void sendsAtOnceUnlessTheApplicationSetsLinger() {
    contextRunner.run(
        context ->
            assertThat(context.getBean(KafkaOutboxTransport.class).producerConfiguration())
                .containsEntry("linger.ms", KafkaOutboxDefaults.LINGER_MS));
    contextRunner
        .withPropertyValues("spring.kafka.producer.properties.linger.ms=20")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).producerConfiguration())
                    .containsEntry("linger.ms", "20"));
  }

  /**
   * The relay checks its publish timeout against the transport's longest blocking send at startup
   * (at least twice it): that limit is the producer's {@code max.block.ms} as the application sets
   * it in Boot's properties, or the library's default.
   */
  @Test
  void theLongestBlockingSendIsTheMaxBlockTheApplicationSets() {
    contextRunner.run(
        context ->
            assertThat(context.getBean(KafkaOutboxTransport.class).maxBlock())
                .isEqualTo(Duration.ofMillis(KafkaOutboxDefaults.MAX_BLOCK_MS)));
    contextRunner
        .withPropertyValues("spring.kafka.producer.properties.max.block.ms=7000")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).maxBlock())
                    .isEqualTo(Duration.ofSeconds(7)));
  }

  @Test
  void usesTheApplicationNameAsSource() {
    contextRunner
        .withPropertyValues("spring.application.name=order-service")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).options().source())
                    .isEqualTo("order-service"));
  }

  @Test
  void percentEncodesAnApplicationNameThatIsNotAUriReference() {
    contextRunner
        .withPropertyValues("spring.application.name=Order Service ü")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).options().source())
                    .isEqualTo("Order%20Service%20%C3%BC"));
  }

  @Test
  void rejectsAnInvalidDeadLetterSuffixNamingTheProperty() {
    contextRunner
        .withPropertyValues("outbox.kafka.dead-letter-suffix=/dlt")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "Invalid outbox.kafka.dead-letter-suffix: deadLetterSuffix must be one or"
                            + " more of a-z"));
  }

  @Test
  void rejectsAConfiguredSourceThatIsNotAUriReferenceNamingTheProperty() {
    contextRunner
        .withPropertyValues("outbox.kafka.source=Order Service")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining("Invalid outbox.kafka.source: source must be a URI")
                    .hasStackTraceContaining("'Order Service' has a space at index 5"));
  }

  @Test
  void appliesConfiguredSourceAndDeadLetterSuffix() {
    contextRunner
        .withPropertyValues(
            "spring.application.name=order-service",
            "outbox.kafka.source=urn:shop:orders",
            "outbox.kafka.dead-letter-suffix=.DLT")
        .run(
            context -> {
              KafkaOutboxTransport transport = context.getBean(KafkaOutboxTransport.class);
              assertThat(transport.options().source()).isEqualTo("urn:shop:orders");
              assertThat(transport.options().deadLetterSuffix()).isEqualTo(".DLT");
            });
  }

  @Test
  void rejectsADeadLetterSuffixThatCannotBePartOfATopicName() {
    contextRunner
        .withPropertyValues("outbox.kafka.dead-letter-suffix=/dead")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("deadLetterSuffix"));
  }

  @Test
  void keepsTheApplicationsClientIdApartFromTheOutboxProducers() {
    contextRunner
        .withPropertyValues("spring.kafka.client-id=orders")
        .run(
            context ->
                assertThat(context.getBean(KafkaOutboxTransport.class).producerConfiguration())
                    .containsEntry("client.id", "orders-outbox"));
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnTransport {
    final OutboxTransport transport = mock(OutboxTransport.class);

    @Bean
    OutboxTransport ownTransport() {
      return transport;
    }
  }
}
