package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.kafka.e2e.OrderPlaced;
import dev.outbox.kafka.e2e.ShopApplication;
import dev.outbox.kafka.e2e.ShopOrderRepository;
import dev.outbox.kafka.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.micrometer.tracing.test.autoconfigure.AutoConfigureTracing;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
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
 * The whole path as an application uses it: a JPA entity saved by a transactional method annotated
 * with {@code PublishEvent}, the starter's auto-configured writer and relay, the Kafka transport
 * auto-configured from {@code spring.kafka.*}, a real KRaft broker and the real PostgreSQL (a
 * schema of its own). What arrives is read back with a plain {@code KafkaConsumer}.
 *
 * <p>Absence is proven, not assumed: after the action under test, a marker event of the same key is
 * committed; the key's records are read until the marker arrives. Records of one key share a
 * partition and the relay publishes a key's events in write order, so anything the action had
 * published would be read before the marker.
 *
 * <p>Tracing is Micrometer Tracing with the Brave bridge as Spring Boot auto-configures it, with
 * every trace sampled; finished spans are collected by a {@code SpanHandler} bean.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "spring.application.name=shop-service",
      "spring.jpa.hibernate.ddl-auto=create",
      "spring.jpa.open-in-view=false",
      "management.tracing.sampling.probability=1.0",
      "spring.kafka.consumer.auto-offset-reset=earliest"
    })
@AutoConfigureTracing
@Import({
  KafkaOutboxEndToEndIntegrationTests.Spans.class,
  KafkaOutboxEndToEndIntegrationTests.TypedConsumer.class
})
@DirtiesContext
class KafkaOutboxEndToEndIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static final String SCHEMA = TestPostgres.get().createSchema("kafka_e2e");

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

  @Autowired ShopService shop;
  @Autowired ShopOrderRepository orders;
  @Autowired Outbox outbox;
  @Autowired JdbcClient jdbc;
  @Autowired TransactionTemplate transactions;
  @Autowired Tracer tracer;
  @Autowired FinishedSpans spans;
  @Autowired TypedConsumer typedConsumer;

  @Test
  void commitPublishesExactlyOneCloudEventKeyedByTheAggregateIdWithTheRowsId() {
    String orderId = "order-" + UUID.randomUUID();

    StoredEvent stored = placeOrder(orderId, 3);

    List<ConsumerRecord<String, String>> records = recordsBeforeMarker(orderId);
    assertThat(records).hasSize(1);
    ConsumerRecord<String, String> record = records.get(0);
    assertThat(record.key()).isEqualTo(orderId);
    assertThat(record.value()).isEqualTo("{\"orderId\":\"" + orderId + "\",\"quantity\":3}");
    assertThat(TestKafka.headers(record))
        .containsEntry("ce_id", stored.id().toString())
        .containsEntry("ce_type", "OrderPlaced")
        .containsEntry("ce_source", "shop-service")
        .containsEntry("ce_specversion", "1.0")
        .containsEntry("ce_subject", orderId)
        .containsEntry("ce_aggregatetype", "Order")
        .containsEntry("content-type", "application/json")
        .doesNotContainKey("traceparent");
    assertThat(Instant.parse(TestKafka.header(record, "ce_time"))).isEqualTo(stored.createdAt());
    assertThat(stored.id().version()).as("UUIDv7").isEqualTo(7);
    assertThat(orders.findById(orderId)).isPresent();
    assertThat(outboxRows(orderId)).as("published rows are deleted").isZero();
  }

  /**
   * A consumer that knows nothing of this library: the CloudEvents SDK's Kafka deserializer reads
   * the record in binary content mode and finds every attribute the relay set, with the payload as
   * the event's data.
   */
  @Test
  void cloudEventsSdkConsumerReadsEveryAttributeAndThePayloadAsData() {
    String orderId = "order-" + UUID.randomUUID();

    StoredEvent stored = placeOrder(orderId, 2);

    CloudEvent event = readCloudEvent(stored.id().toString());
    assertThat(event.getSpecVersion()).isEqualTo(SpecVersion.V1);
    assertThat(event.getId()).isEqualTo(stored.id().toString());
    assertThat(event.getType()).isEqualTo("OrderPlaced");
    assertThat(event.getSource()).isEqualTo(URI.create("shop-service"));
    assertThat(event.getSubject()).isEqualTo(orderId);
    assertThat(event.getTime()).isNotNull();
    assertThat(event.getTime().toInstant()).isEqualTo(stored.createdAt());
    assertThat(event.getDataContentType()).isEqualTo("application/json");
    assertThat(event.getData()).isNotNull();
    assertThat(new String(event.getData().toBytes(), StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"" + orderId + "\",\"quantity\":2}");
    assertThat(event.getExtensionNames())
        .containsExactlyInAnyOrder("aggregatetype", "eventversion");
    assertThat(event.getExtension("aggregatetype")).isEqualTo("Order");
    assertThat(event.getExtension("eventversion")).isEqualTo("1");
  }

  /**
   * A consumer written the way Spring Kafka's documentation shows, knowing nothing of this library:
   * a {@code @KafkaListener} method taking the event as its record type, converted from JSON by a
   * {@link StringJacksonJsonMessageConverter} bean (Spring Boot puts it in the listener container
   * factory; the type comes from the method parameter), with the attributes it needs as {@code
   * Header} parameters.
   */
  @Test
  void typedSpringListenerReceivesTheEventAsItsRecordWithTheCloudEventsHeaders() {
    String orderId = "order-" + UUID.randomUUID();

    StoredEvent stored = placeOrder(orderId, 4);

    await()
        .atMost(TIMEOUT)
        .until(() -> typedConsumer.deliveries.stream().anyMatch(d -> d.key().equals(orderId)));
    assertThat(typedConsumer.deliveries)
        .filteredOn(d -> d.key().equals(orderId))
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

    assertThat(recordsBeforeMarker(orderId)).isEmpty();
    assertThat(orders.findById(orderId)).isEmpty();
  }

  @Test
  void unserializablePayloadFailsTheBusinessTransactionNamingTheEventTypeAndWritesNothing() {
    String orderId = "order-" + UUID.randomUUID();

    assertThatThrownBy(() -> shop.placeOrderWithUnserializableEvent(orderId))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("event type Unserializable")
        .hasMessageContaining("the secret cannot be read");

    assertThat(orders.findById(orderId)).as("the order rolled back").isEmpty();
    assertThat(outboxRows(orderId)).isZero();
    assertThat(recordsBeforeMarker(orderId)).isEmpty();
  }

  @Test
  void relaySendIsASpanOfTheWritersTraceAndTheParentOfWhatTheConsumerSees() {
    String orderId = "order-" + UUID.randomUUID();
    Span span = tracer.nextSpan().name("place-order").start();
    try (Tracer.SpanInScope scope = tracer.withSpan(span)) {
      shop.placeOrder(orderId, 1);
    } finally {
      span.end();
    }

    List<ConsumerRecord<String, String>> records = recordsBeforeMarker(orderId);
    assertThat(records).hasSize(1);
    MutableSpan relay =
        spans.await(
            s ->
                (ShopService.TOPIC + " publish").equals(s.name())
                    && orderId.equals(s.tag("outbox.event.key")),
            TIMEOUT);
    assertThat(relay.kind()).isEqualTo(brave.Span.Kind.PRODUCER);
    assertThat(relay.traceId()).isEqualTo(span.context().traceId());
    assertThat(relay.parentId()).as("the writer's span").isEqualTo(span.context().spanId());
    assertThat(TestKafka.header(records.get(0), "traceparent"))
        .as("the consumer's parent is the relay span")
        .isEqualTo("00-" + relay.traceId() + "-" + relay.id() + "-01");
  }

  /** Spans as Brave finishes them; Spring Boot's Brave set-up reports to every SpanHandler bean. */
  static final class FinishedSpans extends SpanHandler {
    private final List<MutableSpan> finished = new CopyOnWriteArrayList<>();

    @Override
    public boolean end(TraceContext context, MutableSpan span, Cause cause) {
      finished.add(span);
      return true;
    }

    MutableSpan await(Predicate<MutableSpan> match, Duration timeout) {
      // The relay span ends when the broker acknowledges, which may come just after the record
      // is readable.
      return Awaitility.await()
          .atMost(timeout)
          .until(() -> finished.stream().filter(match).findFirst(), Optional::isPresent)
          .orElseThrow();
    }
  }

  @TestConfiguration
  static class Spans {
    @Bean
    FinishedSpans finishedSpans() {
      return new FinishedSpans();
    }
  }

  /** What the typed listener received: the converted payload and the headers it asked for. */
  record Delivery(OrderPlaced event, String id, String type, String source, String key) {}

  @TestConfiguration
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

  /** Places an order and returns its event as stored, read in the same transaction. */
  private StoredEvent placeOrder(String orderId, int quantity) {
    return transactions.execute(
        status -> {
          shop.placeOrder(orderId, quantity);
          return storedEvent(orderId);
        });
  }

  /** The id and write time of the key's event, read on the business transaction's connection. */
  private StoredEvent storedEvent(String key) {
    return jdbc.sql("SELECT id, created_at FROM outbox_event WHERE event_key = ?")
        .param(key)
        .query(
            (rs, row) ->
                new StoredEvent(rs.getObject(1, UUID.class), rs.getTimestamp(2).toInstant()))
        .single();
  }

  private long outboxRows(String key) {
    return jdbc.sql("SELECT count(*) FROM outbox_event WHERE event_key = ?")
        .param(key)
        .query(Long.class)
        .single();
  }

  /** Commits a marker event of {@code key} and returns the key's records read before the marker. */
  private List<ConsumerRecord<String, String>> recordsBeforeMarker(String key) {
    UUID marker =
        transactions.execute(
            status -> outbox.publish(ShopService.TOPIC, key, new OrderPlaced(key, 0)));
    List<ConsumerRecord<String, String>> ofKey = new ArrayList<>();
    AtomicBoolean markerRead = new AtomicBoolean();
    kafka.read(
        ShopService.TOPIC,
        TIMEOUT,
        records -> {
          ofKey.clear();
          for (ConsumerRecord<String, String> record : records) {
            if (key.equals(record.key())) {
              if (marker.toString().equals(TestKafka.header(record, "ce_id"))) {
                markerRead.set(true);
                return true;
              }
              ofKey.add(record);
            }
          }
          return false;
        });
    assertThat(markerRead).as("marker event %s of key %s read", marker, key).isTrue();
    return ofKey;
  }

  /**
   * Reads the topic from the beginning with the CloudEvents SDK's deserializer until the event with
   * {@code id} arrives, within {@link #TIMEOUT}.
   */
  private CloudEvent readCloudEvent(String id) {
    return kafka
        .read(
            ShopService.TOPIC,
            CloudEventDeserializer.class,
            TIMEOUT,
            records -> records.stream().anyMatch(r -> id.equals(r.value().getId())))
        .stream()
        .map(ConsumerRecord::value)
        .filter(event -> id.equals(event.getId()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("event " + id + " not read within " + TIMEOUT));
  }

  private record StoredEvent(UUID id, Instant createdAt) {}
}
