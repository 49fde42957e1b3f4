package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.BrokerUnavailableException;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPorts;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kafka transport's record format and failure handling, with the relay, on real services. */
class KafkaOutboxTransportIntegrationTests {

  private static final String TRACEPARENT =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private static TestKafka kafka;
  private static KafkaOutboxTransport transport;

  private String schema;
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
    transport =
        KafkaOutboxTransport.create(
            kafka.producerConfig(), KafkaTransportOptions.defaults().withSource("order-service"));
  }

  @AfterAll
  static void stopBroker() {
    if (transport != null) {
      transport.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @BeforeEach
  void createOutboxTable() {
    schema = TestPostgres.get().createSchema("kafka");
    TableName table = TableName.of(schema, "outbox_event");
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
  }

  @AfterEach
  void dropOutboxTable() {
    TestPostgres.get().dropSchema(schema);
  }

  @Test
  void sendsCompleteCloudEventsHeadersAndPassesTraceContextThrough() throws Exception {
    String topic = kafka.newTopic("orders");
    Instant createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
    OutboxEvent event =
        new OutboxEvent(
            EventIds.next(),
            1,
            topic,
            "order-7",
            "Order",
            "OrderPlaced",
            3,
            "{\"orderId\":\"order-7\"}",
            Map.of("traceparent", TRACEPARENT, "tracestate", "vendor=1", "ce_id", "forged"),
            createdAt,
            0);

    transport.send(event).get(30, TimeUnit.SECONDS);

    ConsumerRecord<String, String> record = single(kafka.read(topic, 1, Duration.ofSeconds(30)));
    assertThat(record.key()).isEqualTo("order-7");
    assertThat(record.value()).isEqualTo("{\"orderId\":\"order-7\"}");
    assertThat(TestKafka.headers(record))
        .containsEntry("ce_id", event.id().toString())
        .containsEntry("ce_type", "OrderPlaced")
        .containsEntry("ce_source", "order-service")
        .containsEntry("ce_specversion", "1.0")
        .containsEntry("ce_subject", "order-7")
        .containsEntry("ce_eventversion", "3")
        .containsEntry("ce_aggregatetype", "Order")
        .containsEntry("content-type", "application/json")
        .containsEntry("traceparent", TRACEPARENT)
        .containsEntry("tracestate", "vendor=1");
    assertThat(record.headers().headers("ce_id")).as("one id, not the forged one").hasSize(1);
    String time = TestKafka.header(record, "ce_time");
    assertThat(OffsetDateTime.parse(time, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant())
        .isEqualTo(createdAt);
  }

  @Test
  void leavesOutSubjectAndAggregateTypeOfAnUnkeyedEvent() throws Exception {
    String topic = kafka.newTopic("audit");
    OutboxEvent event =
        new OutboxEvent(
            EventIds.next(),
            1,
            topic,
            null,
            null,
            "AuditLogged",
            1,
            "{}",
            Map.of(),
            Instant.now(),
            0);

    transport.send(event).get(30, TimeUnit.SECONDS);

    ConsumerRecord<String, String> record = single(kafka.read(topic, 1, Duration.ofSeconds(30)));
    assertThat(record.key()).isNull();
    assertThat(TestKafka.headers(record))
        .containsEntry("ce_id", event.id().toString())
        .containsEntry("ce_eventversion", "1")
        .doesNotContainKeys("ce_subject", "ce_aggregatetype");
  }

  @Test
  void aRecordTooLargeForKafkaIsDeadLetteredAtOnceWithoutItsPayload() throws Exception {
    String topic = kafka.newTopic("huge");
    String payload = "{\"blob\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}";
    OutboxEvent probe =
        new OutboxEvent(
            EventIds.next(), 1, topic, "k", null, "Huge", 1, payload, Map.of(), Instant.now(), 0);
    Throwable failure = catchThrowable(() -> transport.send(probe).get(30, TimeUnit.SECONDS));
    assertThat(Failures.unwrap(failure)).isInstanceOf(RecordTooLargeException.class);
    assertThat(transport.isRetryable(failure)).isFalse();

    UUID id = write(List.of(OutboxMessage.of(topic, "order-9", payload))).get(0);
    try (OutboxRelay relay = relay(RetryPolicy.defaults(), RelayListener.none())) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> repository.findDead(10).size() == 1);
    }

    OutboxRepository.DeadEvent dead = repository.findDead(10).get(0);
    assertThat(dead.event().id()).isEqualTo(id);
    assertThat(dead.event().attempts()).isEqualTo(1);
    assertThat(dead.lastError()).contains("RecordTooLargeException");
    assertThat(dead.event().payload()).as("the payload stays in the table").isEqualTo(payload);
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + schema
                        + ".outbox_event WHERE status = 'DEAD' AND id = '"
                        + id
                        + "'"))
        .isEqualTo(1);
    ConsumerRecord<String, String> deadLetter =
        single(kafka.read(topic + "-dlt", 1, Duration.ofSeconds(30)));
    assertThat(deadLetter.value()).isNull();
    assertThat(deadLetter.key()).isEqualTo("order-9");
    assertThat(TestKafka.headers(deadLetter))
        .containsEntry("ce_id", id.toString())
        .containsEntry(DeadLetterHeaders.PAYLOAD_OMITTED, "true")
        .containsEntry(DeadLetterHeaders.ORIGINAL_TOPIC, topic)
        .containsEntry(DeadLetterHeaders.ATTEMPTS, "1")
        .containsEntry(DeadLetterHeaders.ERROR_CLASS, RecordTooLargeException.class.getName());
  }

  @Test
  void aDeadLetterTooLargeForKafkaIsSentWithoutItsPayload() throws Exception {
    String topic = kafka.newTopic("huge-dlt");
    String payload = "{\"blob\":\"" + "y".repeat(2 * 1024 * 1024) + "\"}";
    OutboxEvent event =
        new OutboxEvent(
            EventIds.next(), 1, topic, "k", null, "Huge", 1, payload, Map.of(), Instant.now(), 4);

    transport
        .sendToDeadLetter(event, new DeadLetter("expired", "java.lang.IllegalStateException", 5))
        .get(30, TimeUnit.SECONDS);

    ConsumerRecord<String, String> deadLetter =
        single(kafka.read(topic + "-dlt", 1, Duration.ofSeconds(30)));
    assertThat(deadLetter.value()).isNull();
    assertThat(TestKafka.headers(deadLetter))
        .containsEntry("ce_id", event.id().toString())
        .containsEntry(DeadLetterHeaders.PAYLOAD_OMITTED, "true")
        .containsEntry(DeadLetterHeaders.ERROR, "expired")
        .containsEntry(DeadLetterHeaders.ERROR_CLASS, "java.lang.IllegalStateException")
        .containsEntry(DeadLetterHeaders.ATTEMPTS, "5");
  }

  @Test
  void deliversEveryEventWithItsIdOnceTheBrokerComesUp() throws Exception {
    int port = TestPorts.unused();
    String topic = "recovery-" + UUID.randomUUID();
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      messages.add(OutboxMessage.of(topic, "order-" + (i % 10), "{\"n\":" + i + "}"));
    }
    List<UUID> ids = write(messages);
    AtomicInteger outageCycles = new AtomicInteger();
    RelayListener countOutageCycles =
        new RelayListener() {
          @Override
          public void cycleFailed(Throwable failure) {
            if (failure instanceof BrokerUnavailableException) {
              outageCycles.incrementAndGet();
            }
          }
        };
    // Two attempts only: an outage must not use them up, or the events would be dead.
    RetryPolicy strict =
        RetryPolicy.defaults()
            .withMaxAttempts(2)
            .withInitialBackoff(Duration.ofMillis(100))
            .withMaxBackoff(Duration.ofMillis(500));

    try (KafkaOutboxTransport offline =
            KafkaOutboxTransport.create(
                TestKafka.producerConfig("127.0.0.1:" + port), KafkaTransportOptions.defaults());
        OutboxRelay relay = relay(offline, strict, countOutageCycles)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> outageCycles.get() >= 3);
      assertThat(relay.isHealthy()).isFalse();
      assertThat(repository.stats().pending()).as("nothing delivered yet").isEqualTo(40);
      assertThat(
              TestPostgres.get().queryLong("SELECT max(attempts) FROM " + schema + ".outbox_event"))
          .as("an unreachable broker uses up no attempts")
          .isZero();

      try (TestKafka late = TestKafka.startOnPort(port)) {
        late.createTopics(topic);
        await()
            .atMost(Duration.ofSeconds(90))
            .until(() -> repository.stats().pending() == 0 && repository.stats().dead() == 0);

        Set<String> received = ids(late.read(topic, Duration.ofSeconds(30), coversAll(ids)));
        assertThat(received).isEqualTo(asStrings(ids));
      }
    }
  }

  @Test
  void aBrokerStoppedMidRunUsesUpAtMostOneAttemptAndEverythingArrivesWhenItIsBack()
      throws Exception {
    int port = TestPorts.unused();
    String topic = "outage-" + UUID.randomUUID();
    RetryPolicy strict =
        RetryPolicy.defaults()
            .withMaxAttempts(3)
            .withInitialBackoff(Duration.ofMillis(100))
            .withMaxBackoff(Duration.ofMillis(200));
    AtomicInteger outageCycles = new AtomicInteger();
    RelayListener countOutageCycles =
        new RelayListener() {
          @Override
          public void cycleFailed(Throwable failure) {
            if (failure instanceof BrokerUnavailableException) {
              outageCycles.incrementAndGet();
            }
          }
        };
    List<UUID> before = write(List.of(OutboxMessage.of(topic, "order-1", "{\"n\":0}")));
    try (KafkaOutboxTransport transport =
        KafkaOutboxTransport.create(
            TestKafka.producerConfig("127.0.0.1:" + port), KafkaTransportOptions.defaults())) {
      try (TestKafka first = TestKafka.startOnPort(port)) {
        first.createTopics(topic);
        try (OutboxRelay relay = relay(transport, strict, countOutageCycles)) {
          relay.start();
          await().atMost(Duration.ofSeconds(60)).until(() -> repository.stats().pending() == 0);
        }
      }
      // the broker is gone now; events written during the outage wait for it
      List<UUID> during = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        during.addAll(
            write(List.of(OutboxMessage.of(topic, "order-" + (i % 4), "{\"n\":" + i + "}"))));
      }
      try (OutboxRelay relay = relay(transport, strict, countOutageCycles)) {
        relay.start();
        await().atMost(Duration.ofSeconds(90)).until(() -> outageCycles.get() >= 3);
        assertThat(repository.stats().dead()).as("an outage dead-letters nothing").isZero();
        assertThat(
                TestPostgres.get()
                    .queryLong("SELECT max(attempts) FROM " + schema + ".outbox_event"))
            .as("at most the batch in flight when the broker went away is charged")
            .isLessThanOrEqualTo(1);

        try (TestKafka second = TestKafka.startOnPort(port)) {
          second.createTopics(topic);
          await()
              .atMost(Duration.ofSeconds(90))
              .until(() -> repository.stats().pending() == 0 && repository.stats().dead() == 0);
          Set<String> received = ids(second.read(topic, Duration.ofSeconds(30), coversAll(during)));
          assertThat(received).containsAll(asStrings(during));
          assertThat(before).hasSize(1);
        }
      }
    }
  }

  @Test
  void aRelayStoppedMidStreamAndRestartedLosesNothing() throws Exception {
    String topic = kafka.newTopic("restart");
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      messages.add(OutboxMessage.of(topic, "order-" + (i % 50), "{\"n\":" + i + "}"));
    }
    List<UUID> ids = write(messages);
    CountDownLatch paused = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    AtomicInteger published = new AtomicInteger();
    AtomicBoolean pausedOnce = new AtomicBoolean();
    RelayListener pauseAfter300 =
        new RelayListener() {
          @Override
          public void published(OutboxEvent event, Duration sinceWrite) {
            if (published.incrementAndGet() >= 300 && pausedOnce.compareAndSet(false, true)) {
              paused.countDown();
              try {
                resume.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    RetryPolicy policy = RetryPolicy.defaults().withInitialBackoff(Duration.ofMillis(100));

    try (OutboxRelay first = relay(transport, policy, pauseAfter300, 100)) {
      first.start();
      assertThat(paused.await(60, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Void> stopping =
          CompletableFuture.runAsync(
              () -> first.stop(Duration.ofSeconds(30)), TestThreads.OWN_THREAD);
      await().atMost(Duration.ofSeconds(10)).until(() -> !first.isRunning());
      resume.countDown();
      stopping.get(30, TimeUnit.SECONDS);
    }
    long pendingAfterStop = repository.stats().pending();
    assertThat(pendingAfterStop).as("stopped mid-stream").isBetween(1L, 2700L);

    try (OutboxRelay second = relay(transport, policy, RelayListener.none(), 100)) {
      second.start();
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> repository.stats().pending() == 0 && repository.stats().dead() == 0);
    }

    List<ConsumerRecord<String, String>> records =
        kafka.read(topic, Duration.ofSeconds(60), coversAll(ids));
    assertThat(ids(records)).isEqualTo(asStrings(ids));
    assertThat(records).hasSizeGreaterThanOrEqualTo(ids.size());
  }

  private List<UUID> write(List<OutboxMessage> messages) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  private OutboxRelay relay(RetryPolicy retryPolicy, RelayListener listener) {
    return relay(transport, retryPolicy, listener);
  }

  private OutboxRelay relay(
      KafkaOutboxTransport transport, RetryPolicy retryPolicy, RelayListener listener) {
    return relay(transport, retryPolicy, listener, 500);
  }

  private OutboxRelay relay(
      KafkaOutboxTransport transport,
      RetryPolicy retryPolicy,
      RelayListener listener,
      int batchSize) {
    return OutboxRelay.builder()
        .repository(repository)
        .transport(transport)
        .retryPolicy(retryPolicy)
        .listener(listener)
        .batchSize(batchSize)
        .pollInterval(Duration.ofMillis(50))
        .publishTimeout(Duration.ofSeconds(10))
        .maxErrorBackoff(Duration.ofSeconds(1))
        .build();
  }

  private static ConsumerRecord<String, String> single(
      List<ConsumerRecord<String, String>> records) {
    assertThat(records).hasSize(1);
    return records.get(0);
  }

  private static java.util.function.Predicate<List<ConsumerRecord<String, String>>> coversAll(
      List<UUID> ids) {
    Set<String> expected = asStrings(ids);
    return records -> ids(records).containsAll(expected);
  }

  private static Set<String> ids(List<ConsumerRecord<String, String>> records) {
    Set<String> ids = new HashSet<>();
    for (ConsumerRecord<String, String> record : records) {
      ids.add(TestKafka.header(record, CloudEventHeaders.ID));
    }
    return ids;
  }

  private static Set<String> asStrings(List<UUID> ids) {
    return ids.stream().map(UUID::toString).collect(Collectors.toSet());
  }
}
