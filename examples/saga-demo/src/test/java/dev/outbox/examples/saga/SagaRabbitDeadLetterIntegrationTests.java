package dev.outbox.examples.saga;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.outbox.examples.inventory.InventoryServiceApplication;
import dev.outbox.examples.order.OrderServiceApplication;
import dev.outbox.test.TestRabbit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The services' RabbitMQ consumers do not redeliver a message they cannot handle forever: after the
 * listener's attempts the message is rejected without requeue and the queue dead-letters it to
 * {@code <queue>.dlq}, with its {@code message_id}, leaving no inbox row behind.
 */
class SagaRabbitDeadLetterIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path directory;

  @Test
  void messagesTheListenersCannotHandleEndInTheirDeadLetterQueues() throws Exception {
    try (TestBroker testBroker = TestBroker.of(SagaTransport.RABBIT);
        EmbeddedInfrastructure infrastructure = new EmbeddedInfrastructure(directory);
        RabbitSagaBroker broker =
            (RabbitSagaBroker) SagaTransport.RABBIT.start(infrastructure, testBroker.arguments())) {
      String inventoryDb = infrastructure.startPostgres();
      String ordersDb = infrastructure.startPostgres();
      try (ConfigurableApplicationContext inventory =
              InventoryServiceApplication.builder()
                  .run(
                      SagaDemo.serviceArguments(
                          inventoryDb, broker, "--spring.main.web-application-type=none"));
          ConfigurableApplicationContext orders =
              new SpringApplicationBuilder(OrderServiceApplication.class)
                  .run(
                      SagaDemo.serviceArguments(
                          ordersDb, broker, "--spring.main.web-application-type=none"));
          Connection connection =
              connectionFactory(Objects.requireNonNull(testBroker.virtualHost()))
                  .newConnection("saga-dead-letter-test");
          Channel channel = connection.createChannel()) {
        await("both services consume").atMost(TIMEOUT).until(broker::servicesConsuming);

        // Not JSON: the inventory's listener fails on every attempt.
        String badOrder = UUID.randomUUID().toString();
        publish(channel, "orders", "OrderPlaced", badOrder, "not json");
        // A reply for an order the order service does not have.
        String unknownOrderReply = UUID.randomUUID().toString();
        publish(
            channel,
            "stock",
            "StockReserved",
            unknownOrderReply,
            "{\"orderId\":\"" + UUID.randomUUID() + "\",\"product\":\"tea\",\"quantity\":1}");

        assertDeadLettered(channel, broker.inventoryQueue(), badOrder);
        assertDeadLettered(channel, broker.orderQueue(), unknownOrderReply);
        assertThat(inboxRows(inventoryDb, badOrder)).isZero();
        assertThat(inboxRows(ordersDb, unknownOrderReply)).isZero();
      }
    }
  }

  private static void publish(
      Channel channel, String exchange, String routingKey, String messageId, String body)
      throws Exception {
    channel.confirmSelect();
    channel.basicPublish(
        exchange,
        routingKey,
        true,
        new AMQP.BasicProperties.Builder()
            .messageId(messageId)
            .type(routingKey)
            .contentType("application/json")
            .build(),
        body.getBytes(StandardCharsets.UTF_8));
    channel.waitForConfirmsOrDie(TIMEOUT.toMillis());
  }

  /** The message arrives in {@code queue}'s dead-letter queue, and {@code queue} is left empty. */
  private static void assertDeadLettered(Channel channel, String queue, String messageId)
      throws Exception {
    AtomicReference<GetResponse> deadLetter = new AtomicReference<>();
    await(messageId + " dead-lettered from " + queue)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              deadLetter.set(channel.basicGet(queue + ".dlq", true));
              return deadLetter.get() != null;
            });
    AMQP.BasicProperties properties = deadLetter.get().getProps();
    assertThat(properties.getMessageId()).isEqualTo(messageId);
    Map<String, Object> headers = properties.getHeaders();
    assertThat(headers).containsKey("x-death");
    assertThat(headers.get("x-first-death-reason")).hasToString("rejected");
    assertThat(channel.queueDeclarePassive(queue).getMessageCount()).isZero();
  }

  private static ConnectionFactory connectionFactory(String virtualHost) {
    ConnectionFactory factory = TestRabbit.get().connectionFactory();
    factory.setVirtualHost(virtualHost);
    return factory;
  }

  private static long inboxRows(String url, String messageId) throws SQLException {
    try (java.sql.Connection connection = DriverManager.getConnection(url, "postgres", "");
        PreparedStatement statement =
            connection.prepareStatement("SELECT count(*) FROM outbox_inbox WHERE message_id = ?")) {
      statement.setString(1, messageId);
      try (ResultSet rows = statement.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }
}
