package dev.outbox.inbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.inbox.MissingMessageIdException;
import dev.outbox.inbox.RecordingInboxListener;
import dev.outbox.inbox.spring.MicrometerInboxListener;
import dev.outbox.test.TestPostgres;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code @IdempotentListener} on {@code @KafkaListener} methods of a JDBC application, against a
 * real KRaft broker in the test JVM and the real PostgreSQL (a schema of its own). Records are sent
 * with a plain {@code KafkaTemplate} carrying the {@code ce_id} header the relay sets.
 */
@SpringBootTest(
    classes = KafkaConsumerApplication.class,
    properties = {
      "spring.kafka.consumer.auto-offset-reset=earliest",
      "spring.kafka.producer.properties.max.block.ms=5000"
    })
@DirtiesContext
class KafkaIdempotentListenerIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  static final String SCHEMA = TestPostgres.get().createSchema("inbox_kafka");
  static final String SINGLE = "inbox-single-" + UUID.randomUUID();
  static final String PAIR = "inbox-pair-" + UUID.randomUUID();
  static final String HEADER = "inbox-header-" + UUID.randomUUID();
  static final String MANUAL = "inbox-manual-" + UUID.randomUUID();
  static final InboxTestKafka kafka = InboxTestKafka.start();

  static {
    kafka.createTopics(SINGLE, PAIR, HEADER, MANUAL);
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + SCHEMA
                + ".stock (sku text PRIMARY KEY, reserved integer NOT NULL);"
                + "CREATE TABLE "
                + SCHEMA
                + ".effects (message_id text NOT NULL)");
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
    registry.add("outbox.inbox.table.schema", () -> SCHEMA);
    registry.add("spring.kafka.bootstrap-servers", kafka::bootstrapServers);
    registry.add("inbox-test.single-topic", () -> SINGLE);
    registry.add("inbox-test.pair-topic", () -> PAIR);
    registry.add("inbox-test.header-topic", () -> HEADER);
    registry.add("inbox-test.manual-topic", () -> MANUAL);
  }

  /** Closes the broker and drops the schema after Spring closed the application context. */
  @RegisterExtension
  static final BeforeAllCallback services =
      context ->
          context
              .getStore(
                  ExtensionContext.Namespace.create(KafkaIdempotentListenerIntegrationTests.class))
              .put(
                  "services",
                  (AutoCloseable)
                      () -> {
                        try {
                          kafka.close();
                        } finally {
                          TestPostgres.get().dropSchema(SCHEMA);
                        }
                      });

  @Autowired KafkaTemplate<String, String> template;
  @Autowired JdbcClient jdbc;
  @Autowired StockListener listener;
  @Autowired RecordingInboxListener inboxEvents;
  @Autowired MeterRegistry meters;

  @AfterEach
  void resetHook() {
    listener.setHook(id -> {});
    listener.setAcknowledger(StockListener.ACKNOWLEDGE);
  }

  @Test
  void recordDeliveredTwiceReservesStockOnce() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    double duplicatesBefore = counter(MicrometerInboxListener.DUPLICATES);

    send(SINGLE, id, sku + ":3");
    send(SINGLE, id, sku + ":3");

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(reserved(sku)).isEqualTo(3);
    assertThat(effects(id)).isOne();
    assertThat(published(sku)).as("the follow-up event, written once").isOne();
    assertThat(inboxRows("stock", id)).isOne();
    assertThat(counter(MicrometerInboxListener.DUPLICATES) - duplicatesBefore).isEqualTo(1.0);
    assertThat(counter(MicrometerInboxListener.HANDLED)).isPositive();
  }

  @Test
  void concurrentDeliveriesFromTwoContainersReserveOnceTheSecondWaitingForTheFirst()
      throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    listener.setHook(
        messageId -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            awaitLatch(release);
          }
        });

    send(PAIR, id, sku + ":2");

    awaitInboxInsertBlocked();
    assertThat(calls).as("the second container waits in the database").hasValue(1);
    release.countDown();

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(calls).hasValue(1);
    assertThat(reserved(sku)).isEqualTo(2);
    assertThat(effects(id)).isOne();
    assertThat(published(sku)).isOne();
  }

  @Test
  void whenTheFirstOfTwoConcurrentDeliveriesRollsBackTheSecondReservesAndTheRetryIsSkipped()
      throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    listener.setHook(
        messageId -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            awaitLatch(release);
            throw new IllegalStateException("first delivery fails after the stock change");
          }
        });

    send(PAIR, id, sku + ":4");

    awaitInboxInsertBlocked();
    release.countDown();

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(calls).as("the failed delivery and the one that waited for it").hasValue(2);
    assertThat(reserved(sku)).isEqualTo(4);
    assertThat(effects(id)).isOne();
    assertThat(published(sku)).as("the rolled-back attempt's event is gone").isOne();
  }

  @Test
  void failedHandlingLeavesNoInboxRowSoTheRedeliveryIsHandled() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger calls = new AtomicInteger();
    listener.setHook(
        messageId -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            throw new IllegalStateException("database hiccup");
          }
        });

    send(SINGLE, id, sku + ":5");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock " + id) == 1);
    assertThat(calls).hasValue(2);
    assertThat(inboxEvents.count("duplicate stock " + id)).isZero();
    assertThat(reserved(sku)).isEqualTo(5);
    assertThat(effects(id)).isOne();
    assertThat(published(sku)).isOne();
  }

  @Test
  void idFromAHeaderParameterWithTheDefaultConsumerName() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();

    send(HEADER, id, sku + ":1");
    send(HEADER, id, sku + ":1");

    String consumer = "StockListener.onHeader";
    await().atMost(TIMEOUT).until(() -> inboxEvents.count("duplicate " + consumer + " " + id) == 1);
    assertThat(reserved(sku)).isEqualTo(1);
    assertThat(inboxRows(consumer, id)).isOne();
  }

  @Test
  void recordWithoutIdFailsNamingTheMissingHeaderAndIsNotRetried() throws Exception {
    String sku = newSku();
    int recoveredBefore = KafkaConsumerApplication.recovered.size();

    template.send(new ProducerRecord<>(SINGLE, sku, sku + ":7")).get(30, TimeUnit.SECONDS);

    await()
        .atMost(TIMEOUT)
        .until(() -> KafkaConsumerApplication.recovered.size() > recoveredBefore);
    Exception failure = KafkaConsumerApplication.recovered.get(recoveredBefore);
    Throwable cause = failure;
    while (!(cause instanceof MissingMessageIdException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    assertThat(cause)
        .isInstanceOf(MissingMessageIdException.class)
        .hasMessageMatching(
            "Kafka record "
                + SINGLE
                + "-0@\\d+ has no ce_id header: the idempotent listener cannot de-duplicate it");
    assertThat(reserved(sku)).isZero();
    assertThat(KafkaConsumerApplication.failedDeliveries)
        .as("delivered once, not retried")
        .doesNotContain(sku + "#2");
  }

  /**
   * In {@code MANUAL_IMMEDIATE} mode only the listener's acknowledgement commits a record's offset.
   * A duplicate the inbox skipped without acknowledging it would leave the group's committed offset
   * before it, to be consumed again after every restart or rebalance.
   */
  @Test
  void manualAckDuplicateIsAcknowledgedSoTheGroupCommitsPastIt() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();

    send(MANUAL, id, sku + ":3");
    long duplicate = send(MANUAL, id, sku + ":3");

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock-manual", id, TIMEOUT);
    await().atMost(TIMEOUT).until(() -> kafka.committedOffset("manual", MANUAL) > duplicate);
    assertThat(reserved(sku)).isEqualTo(3);
    assertThat(effects(id)).isOne();
  }

  /**
   * The listener acknowledges while its transaction is still open: the offset is committed only
   * once that transaction has committed, so a crash or a failed commit in between redelivers the
   * record instead of losing it.
   */
  @Test
  void manualAckIsCommittedOnlyAfterTheInboxTransactionCommits() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    CountDownLatch acknowledged = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    listener.setAcknowledger(
        (messageId, acknowledgment) -> {
          acknowledgment.acknowledge();
          if (messageId.equals(id)) {
            acknowledged.countDown();
            awaitLatch(release);
          }
        });

    long offset = send(MANUAL, id, sku + ":2");

    assertThat(acknowledged.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(kafka.committedOffset("manual", MANUAL))
        .as("committed while the handling's transaction is open")
        .isLessThanOrEqualTo(offset);
    release.countDown();
    await().atMost(TIMEOUT).until(() -> kafka.committedOffset("manual", MANUAL) > offset);
    assertThat(inboxEvents.count("handled stock-manual " + id)).isOne();
    assertThat(reserved(sku)).isEqualTo(2);
  }

  /**
   * A listener that gives its record back ({@code nack}) has not handled it: the inbox rolls the
   * handling back, so the redelivery runs the listener again instead of being skipped.
   */
  @Test
  void manualNackRollsTheHandlingBackSoTheRedeliveryIsHandledAgain() throws Exception {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger calls = new AtomicInteger();
    listener.setAcknowledger(
        (messageId, acknowledgment) -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            acknowledgment.nack(Duration.ZERO);
          } else {
            acknowledgment.acknowledge();
          }
        });

    send(MANUAL, id, sku + ":4");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock-manual " + id) == 1);
    assertThat(calls).as("the attempt given back and the redelivery").hasValue(2);
    assertThat(inboxEvents.count("duplicate stock-manual " + id)).isZero();
    assertThat(reserved(sku)).isEqualTo(4);
    assertThat(effects(id)).isOne();
    assertThat(published(sku)).isOne();
  }

  /** Sends a record with the id in its {@code ce_id} header and returns the record's offset. */
  private long send(String topic, String id, String value) throws Exception {
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, value.split(":")[0], value);
    record.headers().add("ce_id", id.getBytes(StandardCharsets.UTF_8));
    return template.send(record).get(30, TimeUnit.SECONDS).getRecordMetadata().offset();
  }

  private String newSku() {
    String sku = "sku-" + UUID.randomUUID();
    jdbc.sql("INSERT INTO stock (sku, reserved) VALUES (?, 0)").param(sku).update();
    return sku;
  }

  private int reserved(String sku) {
    return jdbc.sql("SELECT reserved FROM stock WHERE sku = ?")
        .param(sku)
        .query(Integer.class)
        .single();
  }

  private long effects(String id) {
    return jdbc.sql("SELECT count(*) FROM effects WHERE message_id = ?")
        .param(id)
        .query(Long.class)
        .single();
  }

  private long published(String sku) {
    return jdbc.sql("SELECT count(*) FROM outbox_event WHERE event_key = ?")
        .param(sku)
        .query(Long.class)
        .single();
  }

  private long inboxRows(String consumer, String id) {
    return jdbc.sql("SELECT count(*) FROM outbox_inbox WHERE consumer = ? AND message_id = ?")
        .param(consumer)
        .param(id)
        .query(Long.class)
        .single();
  }

  private double counter(String name) {
    var counter = meters.find(name).tag("consumer", "stock").counter();
    return counter == null ? 0 : counter.count();
  }

  /** Waits until a session is blocked on a lock while inserting into this test's inbox table. */
  private void awaitInboxInsertBlocked() {
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                TestPostgres.get()
                        .sessionsWaitingForALock("INSERT INTO " + SCHEMA + ".outbox_inbox ")
                    > 0);
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released within 60 s");
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }
}
