package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.rabbit.e2e.OrderPlaced;
import dev.outbox.rabbit.e2e.ShopApplication;
import dev.outbox.rabbit.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
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
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A consumer written the way Spring AMQP's documentation shows, knowing nothing of this library: a
 * {@code @RabbitListener} method taking the event as a typed record, converted from JSON by a
 * {@link JacksonJsonMessageConverter} bean (which Spring Boot puts in its listener container
 * factory; the type comes from the method, not from a type header), with the CloudEvents attributes
 * it needs as {@code @Header} parameters. The events come from the starter's relay through the real
 * broker, in a virtual host of the test's own.
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
@Import(RabbitTypedListenerIntegrationTests.TypedConsumer.class)
@DirtiesContext
class RabbitTypedListenerIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static final String SCHEMA = TestPostgres.get().createSchema("rabbit_typed");

  static final String VHOST = TestRabbit.get().createVirtualHost("typed-listener");

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
    registry.add("spring.rabbitmq.virtual-host", () -> VHOST);
  }

  @RegisterExtension
  static final CloseAfterClass services =
      CloseAfterClass.of(
          () -> {
            try {
              TestRabbit.get().deleteVirtualHost(VHOST);
            } finally {
              TestPostgres.get().dropSchema(SCHEMA);
            }
          });

  /** What the listener received: the converted payload and the headers it asked for. */
  record Delivery(OrderPlaced event, String id, String type, String source, String subject) {}

  @Configuration(proxyBeanMethods = false)
  static class TypedConsumer {

    final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    @Bean
    MessageConverter jsonMessages() {
      return new JacksonJsonMessageConverter();
    }

    @RabbitListener(
        bindings =
            @QueueBinding(
                value = @Queue(name = "typed-consumer", durable = "true"),
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

  @Autowired ShopService shop;
  @Autowired TypedConsumer consumer;
  @Autowired JdbcClient jdbc;
  @Autowired TransactionTemplate transactions;

  @Test
  void aTypedListenerReceivesTheEventAsItsRecordWithTheCloudEventsHeaders() {
    String orderId = "order-" + UUID.randomUUID();

    // The id is read in the transaction that wrote the row: once it commits, the relay may publish
    // and delete the row at any moment.
    UUID id =
        transactions.execute(
            status -> {
              shop.placeOrder(orderId, 4);
              return jdbc.sql("SELECT id FROM " + SCHEMA + ".outbox_event WHERE event_key = ?")
                  .param(orderId)
                  .query(UUID.class)
                  .single();
            });

    await()
        .atMost(TIMEOUT)
        .until(() -> consumer.deliveries.stream().anyMatch(d -> d.subject().equals(orderId)));
    assertThat(consumer.deliveries)
        .filteredOn(d -> d.subject().equals(orderId))
        .containsExactly(
            new Delivery(
                new OrderPlaced(orderId, 4),
                id.toString(),
                "OrderPlaced",
                "shop-service",
                orderId));
  }
}
