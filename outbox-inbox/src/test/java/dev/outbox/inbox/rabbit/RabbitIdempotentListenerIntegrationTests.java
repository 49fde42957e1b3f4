package dev.outbox.inbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.inbox.MissingMessageIdException;
import dev.outbox.inbox.RecordingInboxListener;
import dev.outbox.test.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code @IdempotentListener} on {@code @RabbitListener} methods of a Spring Data JPA application,
 * against the real RabbitMQ (a virtual host of its own) and the real PostgreSQL (a schema of its
 * own). Messages carry the AMQP {@code message_id} and {@code cloudEvents_id} header as the relay
 * sends them.
 */
@SpringBootTest(
    classes = RabbitConsumerApplication.class,
    properties = {"spring.jpa.hibernate.ddl-auto=create", "spring.jpa.open-in-view=false"})
@DirtiesContext
class RabbitIdempotentListenerIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  static final RabbitConsumerServices SERVICES = RabbitConsumerServices.create("inbox-rabbit");
  static final String SCHEMA = SERVICES.schema();
  static final String SINGLE = SERVICES.single();
  static final String PAIR = SERVICES.pair();
  static final String MANUAL_PREFETCH_ONE = SERVICES.manualPrefetchOne();
  static final String MANUAL = SERVICES.manual();

  static {
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + SCHEMA
                + ".once_only (message_id text,"
                + " CONSTRAINT once_only_unique UNIQUE (message_id) DEFERRABLE INITIALLY DEFERRED)");
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    SERVICES.register(registry);
  }

  @RegisterExtension static final BeforeAllCallback services = SERVICES.dropAfterAll();

  @Autowired RabbitTemplate rabbit;
  @Autowired JdbcClient jdbc;
  @Autowired ReservationListener listener;
  @Autowired StockItemRepository stock;
  @Autowired ReservationRepository reservations;
  @Autowired RecordingInboxListener inboxEvents;
  @Autowired ManualAckReservationListener manualListener;

  @AfterEach
  void resetHook() {
    listener.setHook(id -> {});
    manualListener.setAcknowledger(ManualAckReservationListener.ACK);
  }

  @Test
  void messageDeliveredTwiceReservesStockOnce() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();

    send("", SINGLE, id, id, sku + ":3");
    send("", SINGLE, id, id, sku + ":3");

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(reserved(sku)).isEqualTo(3);
    assertThat(reservations.countByMessageId(id)).isOne();
    assertThat(inboxRows(id)).isOne();
  }

  @Test
  void cloudEventsIdHeaderServesWhenTheMessageIdPropertyIsAbsent() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();

    send("", SINGLE, null, id, sku + ":2");
    send("", SINGLE, null, id, sku + ":2");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("duplicate stock " + id) == 1);
    assertThat(reserved(sku)).isEqualTo(2);
  }

  @Test
  void concurrentDeliveriesFromTwoContainersReserveOnceTheSecondWaitingForTheFirst() {
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

    send(PAIR, "", id, id, sku + ":2");

    awaitInboxInsertBlocked();
    assertThat(calls).as("the second container waits in the database").hasValue(1);
    release.countDown();

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(calls).hasValue(1);
    assertThat(reserved(sku)).isEqualTo(2);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  @Test
  void whenTheFirstOfTwoConcurrentDeliveriesRollsBackTheSecondReservesAndTheRequeueIsSkipped() {
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

    send(PAIR, "", id, id, sku + ":4");

    awaitInboxInsertBlocked();
    release.countDown();

    inboxEvents.awaitHandledOnceAndDuplicateOnce("stock", id, TIMEOUT);
    assertThat(calls).as("the failed delivery and the one that waited for it").hasValue(2);
    assertThat(reserved(sku)).isEqualTo(4);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  @Test
  void failedHandlingLeavesNoInboxRowSoTheRequeuedMessageIsHandled() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger calls = new AtomicInteger();
    listener.setHook(
        messageId -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            throw new IllegalStateException("database hiccup");
          }
        });

    send("", SINGLE, id, id, sku + ":5");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock " + id) == 1);
    assertThat(calls).hasValue(2);
    assertThat(inboxEvents.count("duplicate stock " + id)).isZero();
    assertThat(reserved(sku)).isEqualTo(5);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  /**
   * A message without an id fails with a message naming the headers it lacks, and is rejected
   * without requeue (the default would requeue a failed message, and it would fail again at once,
   * for ever): RabbitMQ moves it to the queue's dead-letter queue.
   */
  @Test
  void messageWithoutIdFailsNamingTheMissingHeadersAndIsDeadLetteredNotRequeued() {
    String sku = newSku();
    int failuresBefore = RabbitConsumerApplication.failures.size();

    send("", SINGLE, null, null, sku + ":7");

    Message deadLetter = rabbit.receive(SERVICES.deadLetters(), TIMEOUT.toMillis());
    assertThat(deadLetter).as("the message on the dead-letter queue").isNotNull();
    assertThat(new String(deadLetter.getBody(), StandardCharsets.UTF_8)).isEqualTo(sku + ":7");
    Throwable cause = RabbitConsumerApplication.failures.get(failuresBefore);
    while (!(cause instanceof MissingMessageIdException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    assertThat(cause)
        .isInstanceOf(MissingMessageIdException.class)
        .hasMessageMatching(
            "AMQP message from queue "
                + SINGLE
                + " \\(delivery tag \\d+\\) has no message-id property and no cloudEvents_id or"
                + " cloudEvents:id header: the idempotent listener cannot de-duplicate it");
    assertThat(reserved(sku)).isZero();
  }

  /**
   * With {@code AcknowledgeMode.MANUAL} nobody but the listener acknowledges a message. A duplicate
   * the inbox skipped without acknowledging it would stay unacknowledged, and with a prefetch of
   * one the container would receive nothing after it.
   */
  @Test
  void manualAckDuplicateIsAcknowledgedSoTheNextMessageIsDelivered() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    String next = UUID.randomUUID().toString();

    send("", MANUAL_PREFETCH_ONE, id, id, sku + ":3");
    send("", MANUAL_PREFETCH_ONE, id, id, sku + ":3");
    send("", MANUAL_PREFETCH_ONE, next, next, sku + ":1");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock-manual " + next) == 1);
    assertThat(inboxEvents.count("duplicate stock-manual " + id)).isOne();
    assertThat(reserved(sku)).isEqualTo(4);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  /**
   * The listener acknowledges, then the commit fails (a deferred unique constraint): the
   * acknowledgement must not have reached the broker, or the message is gone while its handling
   * rolled back. The error handler requeues it, and the redelivery is handled.
   */
  @Test
  void manualAckIsSentOnlyAfterTheCommitSoACommitFailureLeavesTheMessageToRedeliver() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger calls = new AtomicInteger();
    int failuresBefore = RabbitConsumerApplication.failures.size();
    manualListener.setAcknowledger(
        (messageId, channel, tag) -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            jdbc.sql("INSERT INTO once_only VALUES (?), (?)").param(id).param(id).update();
          }
          channel.basicAck(tag, false);
        });

    send("", MANUAL, id, id, sku + ":5");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock-manual " + id) == 1);
    assertThat(calls).as("the attempt whose commit failed, and the redelivery").hasValue(2);
    assertThat(RabbitConsumerApplication.failures.subList(failuresBefore, failuresBefore + 1))
        .singleElement()
        .satisfies(failure -> assertThat(failure).hasStackTraceContaining("once_only_unique"));
    assertThat(reserved(sku)).isEqualTo(5);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  /**
   * A listener that requeues its message (negative acknowledgement) has not handled it: the inbox
   * rolls the handling back, so the redelivery runs the listener again instead of being skipped.
   */
  @Test
  void manualNackRollsTheHandlingBackSoTheRequeuedMessageIsHandledAgain() {
    String sku = newSku();
    String id = UUID.randomUUID().toString();
    AtomicInteger calls = new AtomicInteger();
    manualListener.setAcknowledger(
        (messageId, channel, tag) -> {
          if (messageId.equals(id) && calls.incrementAndGet() == 1) {
            channel.basicNack(tag, false, true);
          } else {
            channel.basicAck(tag, false);
          }
        });

    send("", MANUAL, id, id, sku + ":2");

    await().atMost(TIMEOUT).until(() -> inboxEvents.count("handled stock-manual " + id) == 1);
    assertThat(calls).as("the requeued attempt and the redelivery").hasValue(2);
    assertThat(inboxEvents.count("duplicate stock-manual " + id)).isZero();
    assertThat(reserved(sku)).isEqualTo(2);
    assertThat(reservations.countByMessageId(id)).isOne();
  }

  private void send(
      String exchange,
      String routingKey,
      @Nullable String messageId,
      @Nullable String cloudEventsId,
      String body) {
    MessageProperties properties = new MessageProperties();
    properties.setMessageId(messageId);
    if (cloudEventsId != null) {
      properties.setHeader("cloudEvents_id", cloudEventsId);
    }
    properties.setContentType("application/json");
    rabbit.send(
        exchange, routingKey, new Message(body.getBytes(StandardCharsets.UTF_8), properties));
  }

  private String newSku() {
    String sku = "sku-" + UUID.randomUUID();
    stock.save(new StockItem(sku));
    return sku;
  }

  private int reserved(String sku) {
    return stock.findById(sku).orElseThrow().getReserved();
  }

  private long inboxRows(String id) {
    return jdbc.sql("SELECT count(*) FROM outbox_inbox WHERE consumer = 'stock' AND message_id = ?")
        .param(id)
        .query(Long.class)
        .single();
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
