package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.outbox.Outbox;
import dev.outbox.rabbit.e2e.OrderPlaced;
import dev.outbox.rabbit.e2e.ShopApplication;
import dev.outbox.rabbit.e2e.ShopOrderRepository;
import dev.outbox.rabbit.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.amqp.rabbit.annotation.Exchange;
import org.springframework.amqp.rabbit.annotation.Queue;
import org.springframework.amqp.rabbit.annotation.QueueBinding;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.support.AmqpHeaders;
import org.springframework.amqp.support.converter.JacksonJsonMessageConverter;
import org.springframework.amqp.support.converter.MessageConverter;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The whole path as an application uses it: a JPA entity saved by a transactional method annotated
 * with {@code PublishEvent}, the starter's auto-configured writer and relay, the RabbitMQ transport
 * auto-configured from {@code spring.rabbitmq.*} (correlated confirms and returns), the real broker
 * and the real PostgreSQL (a schema of its own). A queue bound to the exchange is read with a plain
 * AMQP client.
 *
 * <p>Absence is proven, not assumed: after the action under test a marker event of the same key is
 * committed, and the queue (first in, first out; the relay publishes in write order) is read until
 * the marker arrives.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "spring.application.name=shop-service",
      "spring.jpa.hibernate.ddl-auto=create",
      "spring.jpa.open-in-view=false",
      "spring.rabbitmq.publisher-confirm-type=correlated",
      "spring.rabbitmq.publisher-returns=true"
    })
@Import(RabbitOutboxEndToEndIntegrationTests.TypedConsumer.class)
@DirtiesContext
class RabbitOutboxEndToEndIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static final String SCHEMA = TestPostgres.get().createSchema("rabbit_e2e");

  static final String QUEUE = TestRabbit.uniqueName("e2e-shop-orders");

  static final Connection connection;

  static final Channel channel;

  static {
    try {
      connection = TestRabbit.get().connectionFactory().newConnection("outbox-e2e-reader");
      channel = connection.createChannel();
      channel.exchangeDeclare(ShopService.EXCHANGE, "topic", true);
      channel.queueDeclare(QUEUE, true, false, false, Map.of());
      channel.queueBind(QUEUE, ShopService.EXCHANGE, "#");
    } catch (IOException | TimeoutException ex) {
      throw new IllegalStateException("RabbitMQ does not answer: " + ex.getMessage(), ex);
    }
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    String url = TestPostgres.get().url();
    registry.add(
        "spring.datasource.url",
        () -> url + (url.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA);
    registry.add("spring.datasource.username", () -> TestPostgres.get().user());
    registry.add("spring.datasource.password", () -> TestPostgres.get().password());
    registry.add("outbox.table.schema", () -> SCHEMA);
    TestRabbit rabbit = TestRabbit.get();
    registry.add("spring.rabbitmq.host", rabbit::host);
    registry.add("spring.rabbitmq.port", rabbit::port);
    registry.add("spring.rabbitmq.username", rabbit::username);
    registry.add("spring.rabbitmq.password", rabbit::password);
  }

  @RegisterExtension
  static final CloseAfterClass services =
      CloseAfterClass.of(
          () -> {
            try {
              channel.queueDelete(QUEUE);
              channel.exchangeDelete(ShopService.EXCHANGE);
              connection.close();
            } finally {
              TestPostgres.get().dropSchema(SCHEMA);
            }
          });

  @Autowired ShopService shop;
  @Autowired ShopOrderRepository orders;
  @Autowired Outbox outbox;
  @Autowired JdbcClient jdbc;
  @Autowired TransactionTemplate transactions;
  @Autowired TypedConsumer typedConsumer;

  @Test
  void commitPublishesOneCloudEventWithTheRowsIdAsMessageId() {
    String orderId = "order-" + UUID.randomUUID();

    StoredEvent stored = placeOrder(orderId, 3);

    List<GetResponse> messages = messagesBeforeMarker(orderId);
    assertThat(messages).hasSize(1);
    AMQP.BasicProperties properties = messages.get(0).getProps();
    String id = stored.id().toString();
    assertThat(properties.getMessageId()).isEqualTo(id);
    assertThat(properties.getContentType()).isEqualTo("application/json");
    assertThat(properties.getType()).isEqualTo("OrderPlaced");
    assertThat(properties.getAppId()).isEqualTo("shop-service");
    assertThat(properties.getDeliveryMode()).as("persistent").isEqualTo(2);
    assertThat(properties.getHeaders())
        .extractingFromEntries(entry -> entry.getKey() + "=" + entry.getValue())
        .contains(
            "cloudEvents_id=" + id,
            "cloudEvents_type=OrderPlaced",
            "cloudEvents_source=shop-service",
            "cloudEvents_specversion=1.0",
            "cloudEvents_subject=" + orderId);
    assertThat(Instant.parse(properties.getHeaders().get("cloudEvents_time").toString()))
        .isEqualTo(stored.createdAt());
    assertThat(new String(messages.get(0).getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"" + orderId + "\",\"quantity\":3}");
    assertThat(orders.findById(orderId)).isPresent();
  }

  /**
   * A consumer written the way Spring AMQP's documentation shows, knowing nothing of this library:
   * a {@code @RabbitListener} method taking the event as its record type, converted from JSON by a
   * {@link JacksonJsonMessageConverter} bean (Spring Boot puts it in the listener container
   * factory; the type comes from the method parameter, no type header is needed), with the
   * attributes it needs as {@code Header} parameters. Its queue is an anonymous one (named by
   * Spring, exclusive, deleted with its connection) bound to the exchange with {@code #}.
   */
  @Test
  void typedSpringListenerReceivesTheEventAsItsRecordWithTheCloudEventsHeaders() {
    String orderId = "order-" + UUID.randomUUID();

    StoredEvent stored = placeOrder(orderId, 4);

    await()
        .atMost(TIMEOUT)
        .until(() -> typedConsumer.deliveries.stream().anyMatch(d -> d.subject().equals(orderId)));
    assertThat(typedConsumer.deliveries)
        .filteredOn(d -> d.subject().equals(orderId))
        .containsExactly(
            new Delivery(
                new OrderPlaced(orderId, 4),
                stored.id().toString(),
                "OrderPlaced",
                "shop-service",
                orderId));
  }

  @Test
  void rollbackPublishesNothing() {
    String orderId = "order-" + UUID.randomUUID();

    assertThatThrownBy(() -> shop.placeOrderThenFail(orderId, 5))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("payment declined");

    assertThat(messagesBeforeMarker(orderId)).isEmpty();
    assertThat(orders.findById(orderId)).isEmpty();
    assertThat(
            jdbc.sql("SELECT count(*) FROM outbox_event WHERE event_key = ?")
                .param(orderId)
                .query(Long.class)
                .single())
        .isZero();
  }

  /** Places an order and returns its event as stored, read in the same transaction. */
  private StoredEvent placeOrder(String orderId, int quantity) {
    return transactions.execute(
        status -> {
          shop.placeOrder(orderId, quantity);
          return storedEvent(orderId);
        });
  }

  private StoredEvent storedEvent(String key) {
    return jdbc.sql("SELECT id, created_at FROM outbox_event WHERE event_key = ?")
        .param(key)
        .query(
            (rs, row) ->
                new StoredEvent(rs.getObject(1, UUID.class), rs.getTimestamp(2).toInstant()))
        .single();
  }

  /**
   * Commits a marker event of {@code key}, then takes messages off the queue until the marker and
   * returns the key's messages taken before it.
   */
  private List<GetResponse> messagesBeforeMarker(String key) {
    String marker =
        transactions
            .execute(status -> outbox.publish(ShopService.EXCHANGE, key, new OrderPlaced(key, 0)))
            .toString();
    List<GetResponse> ofKey = new ArrayList<>();
    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              GetResponse response;
              while ((response = channel.basicGet(QUEUE, true)) != null) {
                if (marker.equals(response.getProps().getMessageId())) {
                  return true;
                }
                Object subject = response.getProps().getHeaders().get("cloudEvents_subject");
                if (subject != null && key.equals(subject.toString())) {
                  ofKey.add(response);
                }
              }
              return false;
            });
    return ofKey;
  }

  /** What the typed listener received: the converted payload and the headers it asked for. */
  record Delivery(OrderPlaced event, String id, String type, String source, String subject) {}

  @TestConfiguration
  static class TypedConsumer {

    final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    @Bean
    MessageConverter jsonMessages() {
      return new JacksonJsonMessageConverter();
    }

    @RabbitListener(
        bindings =
            @QueueBinding(
                value = @Queue,
                exchange = @Exchange(name = ShopService.EXCHANGE, type = "topic"),
                key = "#"))
    void onOrderPlaced(
        OrderPlaced event,
        @Header(AmqpHeaders.MESSAGE_ID) String id,
        @Header("cloudEvents_type") String type,
        @Header("cloudEvents_source") String source,
        @Header("cloudEvents_subject") String subject) {
      deliveries.add(new Delivery(event, id, type, source, subject));
    }
  }

  private record StoredEvent(UUID id, Instant createdAt) {}
}
