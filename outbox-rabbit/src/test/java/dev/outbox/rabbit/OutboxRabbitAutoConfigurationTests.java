package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

class OutboxRabbitAutoConfigurationTests {

  private static final String[] CONFIRMS_AND_RETURNS = {
    "spring.rabbitmq.publisher-confirm-type=correlated", "spring.rabbitmq.publisher-returns=true"
  };

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  RabbitAutoConfiguration.class, OutboxRabbitAutoConfiguration.class));

  @Test
  void createsTheTransportOnBootsConnectionFactoryWithDefaults() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .run(
            context -> {
              assertThat(context).hasSingleBean(RabbitOutboxTransport.class);
              RabbitOutboxOptions options = context.getBean(RabbitOutboxTransport.class).options();
              assertThat(options).isEqualTo(RabbitOutboxOptions.defaults());
              assertThat(
                      context.getBean(Declarables.class).getDeclarablesByType(TopicExchange.class))
                  .extracting(TopicExchange::getName)
                  .containsExactly(RabbitOutboxOptions.DEFAULT_DEAD_LETTER_EXCHANGE);
            });
  }

  @Test
  void sourceDefaultsToTheApplicationName() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("spring.application.name=order-service")
        .run(
            context ->
                assertThat(context.getBean(RabbitOutboxTransport.class).options().source())
                    .isEqualTo("order-service"));
  }

  @Test
  void percentEncodesAnApplicationNameThatIsNotAUriReference() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("spring.application.name=Order Service")
        .run(
            context ->
                assertThat(context.getBean(RabbitOutboxTransport.class).options().source())
                    .isEqualTo("Order%20Service"));
  }

  @Test
  void rejectsAConfiguredSourceThatIsNotAUriReferenceNamingTheProperty() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("outbox.rabbit.source=Order Service")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining("Invalid outbox.rabbit.source: source must be a URI")
                    .hasStackTraceContaining("'Order Service' has a space at index 5"));
  }

  @Test
  void rejectsInvalidChannelsAndDeadLetterExchangeNamingTheProperty() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("outbox.rabbit.channels=0")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "Invalid outbox.rabbit.channels: channels must be between 1 and 64, was 0"));
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("outbox.rabbit.dead-letter-exchange= ")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "Invalid outbox.rabbit.dead-letter-exchange: deadLetterExchange must name"
                            + " an exchange"));
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues("outbox.rabbit.source=" + "s".repeat(256))
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "Invalid outbox.rabbit.source: source is longer than 255 characters, the"
                            + " most the AMQP app_id property holds"));
  }

  @Test
  void propertiesConfigureTheTransport() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues(
            "spring.application.name=order-service",
            "outbox.rabbit.source=/orders",
            "outbox.rabbit.default-routing-key=key",
            "outbox.rabbit.dead-letter-exchange=orders.dlx")
        .run(
            context ->
                assertThat(context.getBean(RabbitOutboxTransport.class).options())
                    .isEqualTo(
                        new RabbitOutboxOptions("/orders", RoutingKeySource.KEY, "orders.dlx")));
  }

  @Test
  void needsNoPublisherConfirmSettingsOnTheConnectionFactory() {
    runner.run(context -> assertThat(context).hasSingleBean(RabbitOutboxTransport.class));
  }

  @Test
  void declaresNoDeadLetterTopologyWhenTurnedOff() {
    runner
        .withPropertyValues("outbox.rabbit.declare-dead-letter=false")
        .run(context -> assertThat(context).doesNotHaveBean(Declarables.class));
  }

  @Test
  void declarationsTheBrokerRefusesDoNotFailTheConnection() {
    runner.run(
        context ->
            assertThat(context.getBean(Declarables.class).getDeclarables())
                .allMatch(Declarable::isIgnoreDeclarationExceptions));
  }

  @Test
  void channelsAreConfigurable() {
    runner
        .withPropertyValues("outbox.rabbit.channels=2")
        .run(
            context ->
                assertThat(context.getBean(RabbitOutboxTransport.class).options().channels())
                    .isEqualTo(2));
  }

  @Test
  void unroutableEventsAreRetriedOnlyWhenAsked() {
    runner.run(
        context ->
            assertThat(context.getBean(RabbitOutboxTransport.class).options().retryUnroutable())
                .isFalse());
    runner
        .withPropertyValues("outbox.rabbit.retry-unroutable=true")
        .run(
            context ->
                assertThat(context.getBean(RabbitOutboxTransport.class).options().retryUnroutable())
                    .isTrue());
  }

  @Test
  void declaresTheDeadLetterTopologyWhenAsked() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withPropertyValues(
            "outbox.rabbit.declare-dead-letter=true",
            "outbox.rabbit.dead-letter-exchange=orders.dlx",
            "outbox.rabbit.dead-letter-queue=orders.dlq")
        .run(
            context -> {
              Declarables topology = context.getBean(Declarables.class);
              assertThat(topology.getDeclarablesByType(TopicExchange.class))
                  .singleElement()
                  .satisfies(
                      exchange -> {
                        assertThat(exchange.getName()).isEqualTo("orders.dlx");
                        assertThat(exchange.isDurable()).isTrue();
                      });
              assertThat(topology.getDeclarablesByType(Queue.class))
                  .singleElement()
                  .satisfies(queue -> assertThat(queue.getName()).isEqualTo("orders.dlq"));
            });
  }

  @Test
  void backsOffWhenTheApplicationDefinesATransport() {
    runner
        .withPropertyValues(CONFIRMS_AND_RETURNS)
        .withUserConfiguration(OwnTransport.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(OutboxTransport.class);
              assertThat(context).doesNotHaveBean(RabbitOutboxTransport.class);
            });
  }

  @Test
  void backsOffWhenDisabled() {
    runner
        .withPropertyValues("outbox.rabbit.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OutboxTransport.class));
  }

  @Test
  void backsOffWithoutSpringAmqp() {
    runner
        .withClassLoader(new FilteredClassLoader(RabbitTemplate.class))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(OutboxTransport.class);
              assertThat(context).doesNotHaveBean(OutboxRabbitProperties.class);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnTransport {
    @Bean
    OutboxTransport ownTransport() {
      return new OutboxTransport() {
        @Override
        public CompletableFuture<?> send(OutboxEvent event) {
          return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
          return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean isRetryable(Throwable failure) {
          return true;
        }

        @Override
        public String deadLetterDestination(OutboxEvent event) {
          return "none";
        }
      };
    }
  }
}
