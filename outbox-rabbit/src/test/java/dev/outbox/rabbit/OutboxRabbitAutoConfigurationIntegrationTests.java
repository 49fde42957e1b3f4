package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.GetResponse;
import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.test.TestRabbit;
import dev.outbox.transport.DeadLetter;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The auto-configured transport against the real broker, with Boot's defaults for the connection
 * and the outbox's defaults for the dead-letter topology (declared).
 */
class OutboxRabbitAutoConfigurationIntegrationTests {

  @Test
  void autoConfiguredTransportPublishesAndDeadLettersToTheQueueItDeclaresByDefault() {
    TestRabbit rabbit = TestRabbit.get();
    String deadLetterExchange = TestRabbit.uniqueName("auto-dlx");
    String deadLetterQueue = TestRabbit.uniqueName("auto-dlq");
    try (BrokerFixture broker = new BrokerFixture()) {
      String queue = broker.queue("auto-target");
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  RabbitAutoConfiguration.class, OutboxRabbitAutoConfiguration.class))
          .withPropertyValues(
              "spring.application.name=order-service",
              "spring.rabbitmq.host=" + rabbit.host(),
              "spring.rabbitmq.port=" + rabbit.port(),
              "spring.rabbitmq.username=" + rabbit.username(),
              "spring.rabbitmq.password=" + rabbit.password(),
              "outbox.rabbit.dead-letter-exchange=" + deadLetterExchange,
              "outbox.rabbit.dead-letter-queue=" + deadLetterQueue)
          .run(
              context -> {
                RabbitOutboxTransport transport = context.getBean(RabbitOutboxTransport.class);
                OutboxEvent event =
                    new OutboxEvent(
                        EventIds.next(),
                        1,
                        ":" + queue,
                        "order-1",
                        "Order",
                        "OrderPlaced",
                        1,
                        "{}",
                        Map.of(),
                        Instant.now(),
                        0);

                transport.send(event).get(30, TimeUnit.SECONDS);
                transport
                    .sendToDeadLetter(event, new DeadLetter("boom", "java.lang.Exception", 1))
                    .get(30, TimeUnit.SECONDS);

                GetResponse published = broker.take(queue, 1, Duration.ofSeconds(30)).get(0);
                assertThat(published.getProps().getAppId()).isEqualTo("order-service");
                GetResponse dead = broker.take(deadLetterQueue, 1, Duration.ofSeconds(30)).get(0);
                assertThat(dead.getProps().getMessageId()).isEqualTo(event.id().toString());
              });
    } finally {
      try (BrokerFixture cleanup = new BrokerFixture()) {
        cleanup.channel().queueDelete(deadLetterQueue);
        cleanup.channel().exchangeDelete(deadLetterExchange);
      } catch (java.io.IOException ex) {
        throw new IllegalStateException(ex);
      }
    }
  }

  /**
   * CloudEvents defines {@code source} as a URI reference, and consumers parse it (the CloudEvents
   * SDKs do, failing the message otherwise). An application name with a space becomes one,
   * percent-encoded, in the {@code cloudEvents_source} header and the {@code app_id} property, read
   * here by a plain RabbitMQ client.
   */
  @Test
  void anApplicationNameWithASpaceBecomesASourceThatParsesAsAUriReference() {
    TestRabbit rabbit = TestRabbit.get();
    try (BrokerFixture broker = new BrokerFixture()) {
      String queue = broker.queue("auto-source");
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  RabbitAutoConfiguration.class, OutboxRabbitAutoConfiguration.class))
          .withPropertyValues(
              "spring.application.name=Order Service",
              "spring.rabbitmq.host=" + rabbit.host(),
              "spring.rabbitmq.port=" + rabbit.port(),
              "spring.rabbitmq.username=" + rabbit.username(),
              "spring.rabbitmq.password=" + rabbit.password(),
              "outbox.rabbit.declare-dead-letter=false")
          .run(
              context -> {
                RabbitOutboxTransport transport = context.getBean(RabbitOutboxTransport.class);
                OutboxEvent event =
                    new OutboxEvent(
                        EventIds.next(),
                        1,
                        ":" + queue,
                        "order-1",
                        null,
                        "OrderPlaced",
                        1,
                        "{}",
                        Map.of(),
                        Instant.now(),
                        0);

                transport.send(event).get(30, TimeUnit.SECONDS);

                GetResponse published = broker.take(queue, 1, Duration.ofSeconds(30)).get(0);
                String source =
                    published.getProps().getHeaders().get(RabbitHeaders.SOURCE).toString();
                assertThat(source).isEqualTo("Order%20Service");
                assertThat(new URI(source)).isEqualTo(URI.create("Order%20Service"));
                assertThat(published.getProps().getAppId()).isEqualTo(source);
              });
    }
  }
}
