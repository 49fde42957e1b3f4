package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.kafka.e2e.OrderPlaced;
import dev.outbox.kafka.e2e.ShopApplication;
import dev.outbox.kafka.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.converter.RecordMessageConverter;
import org.springframework.kafka.support.converter.StringJacksonJsonMessageConverter;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A consumer written the way Spring Kafka's documentation shows, knowing nothing of this library: a
 * {@code @KafkaListener} method taking the event as a typed record, converted from JSON by a {@link
 * StringJacksonJsonMessageConverter} bean (which Spring Boot puts in its listener container
 * factory), with the CloudEvents attributes it needs as {@code @Header} parameters. The events come
 * from the starter's relay through the real broker.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "spring.application.name=shop-service",
      "spring.jpa.hibernate.ddl-auto=create",
      "spring.jpa.open-in-view=false",
      "spring.kafka.consumer.auto-offset-reset=earliest"
    })
@Import(KafkaTypedListenerIntegrationTests.TypedConsumer.class)
@DirtiesContext
class KafkaTypedListenerIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static final String SCHEMA = TestPostgres.get().createSchema("kafka_typed");

  static final TestKafka kafka = TestKafka.start();

  static {
    kafka.createTopics(ShopService.TOPIC);
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
    registry.add("spring.kafka.bootstrap-servers", kafka::bootstrapServers);
  }

  @RegisterExtension
  static final CloseAfterClass services =
      CloseAfterClass.of(
          () -> {
            try {
              kafka.close();
            } finally {
              TestPostgres.get().dropSchema(SCHEMA);
            }
          });

  /** What the listener received: the converted payload and the headers it asked for. */
  record Delivery(OrderPlaced event, String id, String type, String source, String key) {}

  @Configuration(proxyBeanMethods = false)
  static class TypedConsumer {

    final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    @Bean
    RecordMessageConverter jsonRecords() {
      return new StringJacksonJsonMessageConverter();
    }

    @KafkaListener(topics = ShopService.TOPIC, groupId = "typed-consumer")
    void onOrderPlaced(
        OrderPlaced event,
        @Header("ce_id") String id,
        @Header("ce_type") String type,
        @Header("ce_source") String source,
        @Header(KafkaHeaders.RECEIVED_KEY) String key) {
      deliveries.add(new Delivery(event, id, type, source, key));
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
        .until(() -> consumer.deliveries.stream().anyMatch(d -> d.key().equals(orderId)));
    assertThat(consumer.deliveries)
        .filteredOn(d -> d.key().equals(orderId))
        .containsExactly(
            new Delivery(
                new OrderPlaced(orderId, 4),
                id.toString(),
                "OrderPlaced",
                "shop-service",
                orderId));
  }
}
