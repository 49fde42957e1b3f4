package dev.outbox.examples.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.examples.order.demo.DemoRunner;
import dev.outbox.examples.order.demo.ReceivedEvents;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Boots the order service with its embedded defaults (PostgreSQL and a Kafka broker started by the
 * application itself) in demo mode, and reads the topic with a plain Kafka consumer.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"demo.orders=3", "demo.exit=false", "demo.timeout=30s"})
@Import(RecordingOutbox.Installer.class)
class OrderServiceIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final JsonMapper json = JsonMapper.builder().build();

  @Autowired Outbox outbox;
  @Autowired DemoRunner demo;
  @Autowired ReceivedEvents received;
  @Autowired JdbcClient jdbc;

  @Value("${spring.kafka.bootstrap-servers}")
  String bootstrapServers;

  @Value("${local.server.port}")
  int port;

  @Test
  void startsEmbeddedPostgresAndKafkaWhenNoAddressesAreConfigured() {
    String url = jdbc.sql("SELECT current_setting('port')").query(String.class).single();
    assertThat(url).isNotEqualTo("5432");
    assertThat(bootstrapServers).isNotBlank().doesNotContain("9092");
  }

  @Test
  void demoEventsArriveOnKafkaKeyedByOrderIdWithTheOutboxRowIdAsCeId() {
    assertThat(demo.succeeded()).as("the demo saw all its events").isTrue();
    List<RecordingOutbox.Written> written = recorder().written().subList(0, 3);
    assertThat(written).extracting(RecordingOutbox.Written::destination).containsOnly("orders");

    Map<String, ConsumerRecord<String, String>> records =
        readOrdersTopicUntilKeys(written.stream().map(RecordingOutbox.Written::key).toList());

    for (RecordingOutbox.Written event : written) {
      ConsumerRecord<String, String> record = records.get(event.key());
      assertThat(header(record, "ce_id")).isEqualTo(event.id().toString());
      assertThat(header(record, "ce_type")).isEqualTo("OrderPlaced");
      assertThat(header(record, "ce_source")).isEqualTo("order-service");
      assertThat(header(record, "ce_specversion")).isEqualTo("1.0");
      assertThat(header(record, "ce_eventversion")).isEqualTo("1");
      assertThat(header(record, "ce_time")).isNotBlank();
      JsonNode body = json.readTree(record.value());
      assertThat(body.get("orderId").asString()).isEqualTo(event.key());
      assertThat(body.get("quantity").asInt()).isPositive();
    }
    assertThat(received.all())
        .extracting(event -> event.key() + "=" + event.attributes().get("ce_id"))
        .containsAll(written.stream().map(event -> event.key() + "=" + event.id()).toList());

    Set<String> storedOrders = jdbc.sql("SELECT id FROM orders").query(String.class).set();
    assertThat(storedOrders)
        .containsAll(written.stream().map(RecordingOutbox.Written::key).toList());
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(
                        jdbc.sql("SELECT count(*) FROM outbox_event WHERE id IN (:ids)")
                            .param(
                                "ids", written.stream().map(RecordingOutbox.Written::id).toList())
                            .query(Long.class)
                            .single())
                    .as("published rows are deleted")
                    .isZero());
  }

  @Test
  void postedOrderIsPublishedWithItsOrderIdAsKey() {
    ResponseEntity<String> response =
        RestClient.create("http://localhost:" + port)
            .post()
            .uri("/orders")
            .contentType(MediaType.APPLICATION_JSON)
            .body("{\"customerId\":\"frank\",\"product\":\"tea\",\"quantity\":4}")
            .retrieve()
            .toEntity(String.class);
    assertThat(response.getStatusCode()).isEqualTo(HttpStatus.CREATED);
    String orderId = json.readTree(response.getBody()).get("orderId").asString();
    UUID eventId =
        recorder().written().stream()
            .filter(event -> event.key().equals(orderId))
            .map(RecordingOutbox.Written::id)
            .findFirst()
            .orElseThrow();

    ConsumerRecord<String, String> record = readOrdersTopicUntilKeys(List.of(orderId)).get(orderId);

    assertThat(header(record, "ce_id")).isEqualTo(eventId.toString());
    assertThat(json.readTree(record.value()).get("customerId").asString()).isEqualTo("frank");
  }

  @Test
  void invalidOrderIsRejectedAndPublishesNothing() {
    int before = recorder().written().size();
    ResponseEntity<String> response =
        RestClient.create("http://localhost:" + port)
            .post()
            .uri("/orders")
            .contentType(MediaType.APPLICATION_JSON)
            .body("{\"customerId\":\"gina\",\"product\":\"tea\",\"quantity\":0}")
            .retrieve()
            .onStatus(status -> true, (request, resp) -> {})
            .toEntity(String.class);
    assertThat(response.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(recorder().written()).hasSize(before);
    assertThat(
            jdbc.sql("SELECT count(*) FROM orders WHERE customer_id = 'gina'")
                .query(Long.class)
                .single())
        .isZero();
  }

  private RecordingOutbox recorder() {
    return (RecordingOutbox) outbox;
  }

  /** Reads the whole topic from the beginning until a record of each key has been seen. */
  private Map<String, ConsumerRecord<String, String>> readOrdersTopicUntilKeys(List<String> keys) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false);
    List<ConsumerRecord<String, String>> all = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor("orders").stream()
              .map(info -> new TopicPartition(info.topic(), info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      await()
          .atMost(TIMEOUT)
          .pollDelay(Duration.ZERO)
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(500)).forEach(all::add);
                return all.stream()
                    .map(ConsumerRecord::key)
                    .collect(Collectors.toSet())
                    .containsAll(keys);
              });
    }
    Map<String, List<ConsumerRecord<String, String>>> byKey =
        all.stream()
            .filter(record -> keys.contains(record.key()))
            .collect(Collectors.groupingBy(ConsumerRecord::key));
    byKey.forEach((key, records) -> assertThat(records).as("records with key %s", key).hasSize(1));
    return byKey.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, entry -> entry.getValue().get(0)));
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    assertThat(header).as("header %s", name).isNotNull();
    return new String(header.value(), StandardCharsets.UTF_8);
  }
}
