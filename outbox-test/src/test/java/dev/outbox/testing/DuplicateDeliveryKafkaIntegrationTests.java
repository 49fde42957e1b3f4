package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPostgres;
import dev.outbox.testing.shop.OrderService;
import dev.outbox.testing.shop.ShopApplication;
import dev.outbox.transport.OutboxTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The duplicate-delivery mode against a real KRaft broker in the test JVM and real PostgreSQL:
 * every event reaches the consumers twice with the same CloudEvents id, so a consumer that does not
 * de-duplicate shows a second effect, and one that records the ids it handled does not.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "shop.orders-topic=" + DuplicateDeliveryKafkaIntegrationTests.TOPIC,
      "spring.kafka.consumer.auto-offset-reset=earliest",
      "outbox.rabbit.enabled=false"
    })
@AutoConfigureOutboxTest(capture = false, duplicateCopies = 2)
@Import(DuplicateDeliveryKafkaIntegrationTests.Consumers.class)
@DirtiesContext
class DuplicateDeliveryKafkaIntegrationTests {

  static final String TOPIC = "tk-orders";

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  static final String SCHEMA = ShopDatabase.create("tk_dup");

  static final EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);

  static {
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + SCHEMA
                + ".reservation (consumer text, order_id text, quantity int);"
                + " CREATE TABLE "
                + SCHEMA
                + ".handled_event (event_id text PRIMARY KEY)");
    kafka.afterPropertiesSet();
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    ShopDatabase.register(registry, SCHEMA);
    registry.add("spring.kafka.bootstrap-servers", kafka::getBrokersAsString);
  }

  @AfterAll
  static void stop() {
    kafka.destroy();
    TestPostgres.get().dropSchema(SCHEMA);
  }

  @Autowired OrderService orders;
  @Autowired OutboxTestKit outbox;
  @Autowired OutboxTransport transport;
  @Autowired Consumers consumers;
  @Autowired JdbcClient jdbc;

  @Test
  void everyEventReachesTheConsumersTwiceWithTheSameId() {
    assertThat(transport).isInstanceOf(DuplicatingOutboxTransport.class);
    assertThat(((DuplicatingOutboxTransport) transport).delegate().getClass().getSimpleName())
        .isEqualTo("KafkaOutboxTransport");

    orders.place("o-dup-1", "sku-1", 3);
    outbox.drain();

    await().atMost(TIMEOUT).until(() -> consumers.naiveDeliveries.size() == 2);
    await().atMost(TIMEOUT).until(() -> consumers.idempotentDeliveries.size() == 2);
    assertThat(consumers.naiveDeliveries)
        .hasSize(2)
        .allMatch(id -> id.equals(consumers.naiveDeliveries.get(0)));
    assertThat(consumers.idempotentDeliveries).containsExactlyElementsOf(consumers.naiveDeliveries);

    assertThat(reserved("naive", "o-dup-1")).as("a consumer without de-duplication").isEqualTo(6);
    assertThat(reserved("idempotent", "o-dup-1")).as("a consumer that records ids").isEqualTo(3);
  }

  private long reserved(String consumer, String orderId) {
    return jdbc.sql(
            "SELECT coalesce(sum(quantity), 0) FROM reservation WHERE consumer = ? AND order_id = ?")
        .params(consumer, orderId)
        .query(Long.class)
        .single();
  }

  /** Two consumers of the order topic: one applies every record, one de-duplicates by id. */
  @TestConfiguration(proxyBeanMethods = false)
  static class Consumers {

    final List<String> naiveDeliveries = new CopyOnWriteArrayList<>();
    final List<String> idempotentDeliveries = new CopyOnWriteArrayList<>();
    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;

    Consumers(JdbcClient jdbc, TransactionTemplate transactions) {
      this.jdbc = jdbc;
      this.transactions = transactions;
    }

    @KafkaListener(topics = TOPIC, groupId = "tk-naive")
    void naive(ConsumerRecord<String, String> record) {
      reserve("naive", record);
      naiveDeliveries.add(id(record));
    }

    @KafkaListener(topics = TOPIC, groupId = "tk-idempotent")
    void idempotent(ConsumerRecord<String, String> record) {
      transactions.executeWithoutResult(
          status -> {
            int firstTime =
                jdbc.sql("INSERT INTO handled_event (event_id) VALUES (?) ON CONFLICT DO NOTHING")
                    .params(id(record))
                    .update();
            if (firstTime == 1) {
              reserve("idempotent", record);
            }
          });
      idempotentDeliveries.add(id(record));
    }

    private void reserve(String consumer, ConsumerRecord<String, String> record) {
      int quantity = Integer.parseInt(record.value().replaceAll(".*\"quantity\":(\\d+).*", "$1"));
      jdbc.sql("INSERT INTO reservation (consumer, order_id, quantity) VALUES (?, ?, ?)")
          .params(consumer, record.key(), quantity)
          .update();
    }

    private static String id(ConsumerRecord<String, String> record) {
      Header header = record.headers().lastHeader("ce_id");
      return header == null ? "(no ce_id)" : new String(header.value(), StandardCharsets.UTF_8);
    }
  }
}
