package dev.outbox.examples.order;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Outbox;
import dev.outbox.examples.order.demo.DemoRunner;
import dev.outbox.examples.order.demo.ReceivedEvent;
import dev.outbox.examples.order.demo.ReceivedEvents;
import dev.outbox.test.TestRabbit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Boots the order service with the {@code rabbit} profile (embedded PostgreSQL, the real RabbitMQ
 * broker in a virtual host of its own) in demo mode; the demo's plain AMQP consumer must receive
 * every event with {@code message_id} = the outbox row id.
 */
class OrderServiceRabbitIntegrationTests {

  private static final TestRabbit rabbit = TestRabbit.get();
  private static String virtualHost;
  private static ConfigurableApplicationContext context;

  @BeforeAll
  static void startApplication() {
    virtualHost = rabbit.createVirtualHost("order-service");
    context =
        new SpringApplicationBuilder(OrderServiceApplication.class, RecordingOutbox.Installer.class)
            .profiles("rabbit")
            .run(
                "--server.port=0",
                "--demo.orders=3",
                "--demo.exit=false",
                "--demo.timeout=30s",
                "--spring.rabbitmq.host=" + rabbit.host(),
                "--spring.rabbitmq.port=" + rabbit.port(),
                "--spring.rabbitmq.username=" + rabbit.username(),
                "--spring.rabbitmq.password=" + rabbit.password(),
                "--spring.rabbitmq.virtual-host=" + virtualHost);
  }

  @AfterAll
  static void stopApplication() {
    try {
      if (context != null) {
        context.close();
      }
    } finally {
      if (virtualHost != null) {
        rabbit.deleteVirtualHost(virtualHost);
      }
    }
  }

  @Test
  void demoEventsArriveOnRabbitWithTheOutboxRowIdAsMessageId() {
    assertThat(context.getBean(DemoRunner.class).succeeded()).isTrue();
    List<RecordingOutbox.Written> written =
        ((RecordingOutbox) context.getBean(Outbox.class)).written();
    assertThat(written).hasSize(3);
    List<ReceivedEvent> received = context.getBean(ReceivedEvents.class).all();

    assertThat(received)
        .extracting(event -> event.key() + "=" + event.attributes().get("message_id"))
        .containsExactlyInAnyOrderElementsOf(
            written.stream().map(event -> event.key() + "=" + event.id()).toList());
    assertThat(received)
        .allSatisfy(
            event -> {
              assertThat(event.type()).isEqualTo("OrderPlaced");
              assertThat(event.origin()).contains("exchange orders", "routing key OrderPlaced");
              assertThat(event.attributes())
                  .containsEntry("cloudEvents_type", "OrderPlaced")
                  .containsEntry("cloudEvents_source", "order-service");
              assertThat(event.body()).contains("\"orderId\":\"" + event.key() + "\"");
            });
  }
}
