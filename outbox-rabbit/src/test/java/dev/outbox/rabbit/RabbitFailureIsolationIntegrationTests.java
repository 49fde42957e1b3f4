package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import dev.outbox.transport.Failures;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * A failure caused by one message is charged to that message only; a failure of the broker as a
 * whole is charged to none. Against the real broker, with the relay and its PostgreSQL table where
 * the attempts column tells what was charged.
 */
class RabbitFailureIsolationIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** A payload; its type name is {@code OrderPlaced}. */
  record OrderPlaced(String orderId) {}

  private String schema;
  private TableName table;
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;
  private final Recording listener = new Recording();

  @BeforeEach
  void createTable() {
    schema = TestPostgres.get().createSchema("rabbit_isolation");
    table = TableName.of(schema, "outbox_event");
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(
            repository,
            payload -> "{\"orderId\":\"" + ((OrderPlaced) payload).orderId() + "\"}",
            HeaderCapture.none(),
            Clock.systemUTC());
  }

  @AfterEach
  void dropTable() {
    TestPostgres.get().dropSchema(schema);
  }

  private List<UUID> write(List<OutboxMessage> messages) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  /** The attempts column of every row still in the table. */
  private Map<UUID, Integer> attempts() throws Exception {
    Map<UUID, Integer> attempts = new HashMap<>();
    try (Connection connection = TestPostgres.get().connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("select id, attempts from " + table)) {
      while (rows.next()) {
        attempts.put(rows.getObject(1, UUID.class), rows.getInt(2));
      }
    }
    return attempts;
  }

  private OutboxRelay relay(RabbitOutboxTransport transport) {
    return relay(transport, 1000);
  }

  private OutboxRelay relay(RabbitOutboxTransport transport, int maxAttempts) {
    return OutboxRelay.builder()
        .repository(repository)
        .transport(transport)
        .retryPolicy(
            RetryPolicy.defaults()
                .withMaxAttempts(maxAttempts)
                .withInitialBackoff(Duration.ofMillis(200))
                .withMaxBackoff(Duration.ofMillis(500)))
        .pollInterval(Duration.ofMillis(50))
        .publishTimeout(Duration.ofSeconds(20))
        .maxErrorBackoff(Duration.ofMillis(500))
        .listener(listener)
        .build();
  }

  private static OutboxEvent event(String destination, String key, String payload) {
    return new OutboxEvent(
        EventIds.next(),
        1,
        destination,
        key,
        "Order",
        "OrderPlaced",
        1,
        payload,
        Map.of(),
        Instant.now(),
        0);
  }

  @Test
  void aMissingExchangeFailsOnlyItsOwnMessageAndItsChannelNeighboursAreConfirmed()
      throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("isolation-ok", "#");
      String missing = TestRabbit.uniqueName("isolation-missing");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(broker.route("isolation-dlx", "#").exchange())
                  .withChannels(1));
      List<CompletableFuture<?>> good = new ArrayList<>();
      CompletableFuture<?> bad = null;
      for (int i = 0; i < 200; i++) {
        good.add(transport.send(event(route.exchange(), "order-" + i, "{}")));
        if (i == 20) {
          bad = transport.send(event(missing, "order-bad", "{}"));
        }
      }

      Throwable failure = Failures.unwrap(catchThrowable(bad::join));
      for (CompletableFuture<?> send : good) {
        send.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }

      assertThat(failure)
          .isInstanceOfSatisfying(
              RabbitPublishException.class, ex -> assertThat(ex.replyCode()).isEqualTo(404))
          .hasMessageContaining("no exchange '" + missing + "'");
      assertThat(transport.isBrokerUnavailable(failure)).isFalse();
      assertThat(broker.take(route.queue(), 200, TIMEOUT)).hasSizeGreaterThanOrEqualTo(200);
      transport.close();
    }
  }

  @Test
  void theRelayChargesTheMissingExchangeToItsOwnEventOnly() throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("isolation-relay", "#");
      String missing = TestRabbit.uniqueName("isolation-relay-missing");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(broker.route("isolation-relay-dlx", "#").exchange())
                  .withChannels(1));
      List<OutboxMessage> messages = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        messages.add(OutboxMessage.of(route.exchange(), "order-" + i, new OrderPlaced("o" + i)));
        if (i % 100 == 50) {
          messages.add(OutboxMessage.of(missing, "bad-" + i, new OrderPlaced("bad" + i)));
        }
      }
      List<UUID> ids = write(messages);
      List<UUID> badIds = new ArrayList<>();
      for (int i = 0; i < messages.size(); i++) {
        if (messages.get(i).destination().equals(missing)) {
          badIds.add(ids.get(i));
        }
      }

      try (OutboxRelay relay = relay(transport)) {
        relay.start();
        await()
            .atMost(TIMEOUT)
            .untilAsserted(
                () -> {
                  Map<UUID, Integer> left = attempts();
                  assertThat(left.keySet()).containsExactlyInAnyOrderElementsOf(badIds);
                  assertThat(left.values()).allMatch(attempts -> attempts >= 1);
                });
      }

      assertThat(listener.retried.keySet()).isSubsetOf(badIds);
      assertThat(listener.published).hasSize(300);
      assertThat(listener.dead).isEmpty();
    }
  }

  @Test
  void aMessageLargerThanTheBrokerAcceptsFailsAloneAndIsNotRetryable() throws Exception {
    long maxMessageSize = maxMessageSize();
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("isolation-large", "#");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(broker.route("isolation-large-dlx", "#").exchange())
                  .withChannels(1));
      List<CompletableFuture<?>> good = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        good.add(transport.send(event(route.exchange(), "order-" + i, "{}")));
      }
      CompletableFuture<?> large =
          transport.send(
              event(route.exchange(), "order-large", "x".repeat((int) maxMessageSize + 1)));
      for (int i = 50; i < 100; i++) {
        good.add(transport.send(event(route.exchange(), "order-" + i, "{}")));
      }

      Throwable failure = Failures.unwrap(catchThrowable(large::join));
      for (CompletableFuture<?> send : good) {
        send.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }

      assertThat(failure)
          .isInstanceOfSatisfying(
              RabbitPublishException.class, ex -> assertThat(ex.replyCode()).isEqualTo(406))
          .hasMessageContaining("larger than configured max size");
      assertThat(transport.isRetryable(failure)).isFalse();
      assertThat(broker.take(route.queue(), 100, TIMEOUT)).hasSizeGreaterThanOrEqualTo(100);
      transport.close();
    }
  }

  /** The broker's {@code max_message_size}. */
  private static long maxMessageSize() {
    String output =
        TestRabbit.get()
            .rabbitmqctl("eval", "application:get_env(rabbit, max_message_size).")
            .trim();
    return Long.parseLong(output.replaceAll("\\D", ""));
  }

  @Test
  void wrongCredentialsAreUnavailableChargeNothingAndDeadLetterNothing() throws Exception {
    TestRabbit rabbit = TestRabbit.get();
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("isolation-auth", "#");
      CachingConnectionFactory wrong = broker.connectionFactory();
      wrong.setPassword(rabbit.password() + "-wrong");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              wrong,
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(broker.route("isolation-auth-dlx", "#").exchange()));
      List<UUID> ids =
          write(
              List.of(
                  OutboxMessage.of(route.exchange(), "order-1", new OrderPlaced("o1")),
                  OutboxMessage.of(route.exchange(), "order-2", new OrderPlaced("o2")),
                  OutboxMessage.of(TestRabbit.uniqueName("missing"), null, new OrderPlaced("o3"))));

      try (OutboxRelay relay = relay(transport)) {
        relay.start();
        await().atMost(TIMEOUT).until(() -> listener.cycleFailures.size() >= 3);
        assertThat(relay.isHealthy()).isFalse();
        assertThat(relay.lastFailure()).contains("No connection to RabbitMQ");
        assertThat(attempts()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isZero());
      }
      assertThat(listener.retried).isEmpty();
      assertThat(listener.dead).isEmpty();
      transport.close();
    }
  }

  @Test
  void aMemoryAlarmBlockingTheConnectionIsUnavailableAndChargesNothing() throws Exception {
    TestRabbit rabbit = TestRabbit.get();
    try (BrokerFixture broker = new BrokerFixture()) {
      BrokerFixture.Route route = broker.route("isolation-alarm", "#");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults()
                  .withDeadLetterExchange(broker.route("isolation-alarm-dlx", "#").exchange()));
      transport.send(event(route.exchange(), "warm-up", "{}")).get(30, TimeUnit.SECONDS);
      List<OutboxMessage> messages = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        messages.add(OutboxMessage.of(route.exchange(), "order-" + i, new OrderPlaced("o" + i)));
      }
      List<UUID> ids = write(messages);
      String watermark = memoryHighWatermark();
      try (OutboxRelay relay = relay(transport)) {
        try {
          rabbit.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001");
          relay.start();
          await()
              .atMost(TIMEOUT)
              .untilAsserted(
                  () ->
                      assertThat(relay.lastFailure())
                          .isNotNull()
                          .contains("RabbitMQ blocks publishing"));
          assertThat(attempts())
              .containsOnlyKeys(ids)
              .allSatisfy((id, n) -> assertThat(n).isZero());
          assertThat(listener.retried).isEmpty();
          assertThat(listener.dead).isEmpty();
        } finally {
          restoreMemoryHighWatermark(watermark);
        }
        await().atMost(TIMEOUT).until(() -> attempts().isEmpty());
      }
      assertThat(listener.retried).isEmpty();
      assertThat(listener.dead).isEmpty();
      transport.close();
    }
  }

  /** The broker's memory high watermark as {@code rabbitmqctl eval} prints it. */
  private static String memoryHighWatermark() {
    return TestRabbit.get()
        .rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
        .trim();
  }

  private static void restoreMemoryHighWatermark(String watermark) {
    if (watermark.startsWith("{absolute,")) {
      String bytes = watermark.replaceAll("\\D", "");
      TestRabbit.get().rabbitmqctl("set_vm_memory_high_watermark", "absolute", bytes);
    } else {
      TestRabbit.get().rabbitmqctl("set_vm_memory_high_watermark", watermark);
    }
  }

  /**
   * While the dead-letter exchange is missing, failures are kept uncharged (one charged attempt
   * would dead-letter the unroutable event, three the one to the missing exchange); once it is
   * declared, the relay finds it, charges the failures again and dead-letters both events to it,
   * each row DEAD in the table.
   */
  @Test
  void aMissingDeadLetterExchangeIsUnavailableChargesNothingAndDeadLettersNothingUntilDeclared()
      throws Exception {
    try (BrokerFixture broker = new BrokerFixture()) {
      String unbound = broker.unboundExchange("isolation-no-dlx");
      String deadLetterExchange = TestRabbit.uniqueName("isolation-no-dlx");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults().withDeadLetterExchange(deadLetterExchange));
      List<UUID> ids =
          write(
              List.of(
                  OutboxMessage.of(unbound, "order-1", new OrderPlaced("o1")),
                  OutboxMessage.of(
                      TestRabbit.uniqueName("missing"), "order-2", new OrderPlaced("o2"))));

      try (OutboxRelay relay = relay(transport, 3)) {
        relay.start();
        await()
            .atMost(TIMEOUT)
            .untilAsserted(
                () ->
                    assertThat(relay.lastFailure())
                        .isNotNull()
                        .contains(
                            "the dead-letter exchange '"
                                + deadLetterExchange
                                + "' does not exist"));
        await().atMost(TIMEOUT).until(() -> listener.cycleFailures.size() >= 3);
        assertThat(attempts()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isZero());
        assertThat(listener.retried).isEmpty();
        assertThat(listener.dead).isEmpty();

        broker.declareExchange(deadLetterExchange);
        String deadLetters = broker.queue("isolation-dlq");
        broker.channelBind(deadLetters, deadLetterExchange);

        await().atMost(TIMEOUT).until(() -> listener.dead.keySet().containsAll(ids));
        assertThat(
                broker.take(deadLetters, 2, TIMEOUT).stream()
                    .map(response -> UUID.fromString(response.getProps().getMessageId())))
            .containsExactlyInAnyOrderElementsOf(ids);
        // The listener hears of a dead letter before the batch's outcome is written to the table
        await()
            .atMost(TIMEOUT)
            .untilAsserted(
                () ->
                    assertThat(repository.findDead(10))
                        .extracting(dead -> dead.event().id())
                        .containsExactlyInAnyOrderElementsOf(ids));
      }
      transport.close();
    }
  }

  /**
   * A missing dead-letter exchange is looked up again while it is missing even when no channel
   * closes. The one event is unroutable (an existing exchange with nothing bound): its publishes
   * are returned and confirmed, so the channel it takes stays open and is reused. The lookup used
   * to run only when a channel was opened, so here the exchange stayed "missing" after it was
   * declared, the relay stayed DOWN and the event pending until a restart.
   */
  @Test
  void aMissingDeadLetterExchangeIsLookedUpAgainWhileNoChannelCloses() throws Exception {
    int maxAttempts = 3;
    Duration pollInterval = Duration.ofMillis(50);
    Duration maxBackoff = Duration.ofMillis(500);
    Duration maxErrorBackoff = Duration.ofMillis(500);
    Duration publishTimeout = Duration.ofSeconds(5);
    // From the exchange's declaration to the event DEAD in the table, at most: the lookup falls
    // due within the recheck interval (the last one may have run just before the declaration);
    // the relay's worker sends the event again after its pause after a failed batch (at most the
    // max error backoff) and the next poll; that send runs the lookup, and its failure is the
    // first charged attempt, final (an unroutable event is not retried); counting the attempts
    // the retry policy would allow keeps the bound an upper one whatever the classification: each
    // waits at most the publish timeout for its return, and each but the first is read again after
    // its retry backoff (at most the max backoff) and a poll; then the dead letter waits at most
    // the publish timeout for its confirm.
    // The broker answers in milliseconds, so the publish timeouts leave room for the database.
    Duration deadLetteredWithin =
        DeadLetterExchange.RECHECK_INTERVAL
            .plus(maxErrorBackoff)
            .plus(pollInterval)
            .plus(publishTimeout.plus(maxBackoff).plus(pollInterval).multipliedBy(maxAttempts))
            .plus(publishTimeout);
    try (BrokerFixture broker = new BrokerFixture()) {
      String unbound = broker.unboundExchange("isolation-recheck");
      String deadLetterExchange = TestRabbit.uniqueName("isolation-recheck-dlx");
      RabbitOutboxTransport transport =
          new RabbitOutboxTransport(
              broker.connectionFactory(),
              RabbitOutboxOptions.defaults().withDeadLetterExchange(deadLetterExchange));
      UUID id = write(List.of(OutboxMessage.of(unbound, "order-1", new OrderPlaced("o1")))).get(0);

      try (OutboxRelay relay =
          OutboxRelay.builder()
              .repository(repository)
              .transport(transport)
              .retryPolicy(
                  RetryPolicy.defaults()
                      .withMaxAttempts(maxAttempts)
                      .withInitialBackoff(Duration.ofMillis(200))
                      .withMaxBackoff(maxBackoff))
              .pollInterval(pollInterval)
              .publishTimeout(publishTimeout)
              .maxErrorBackoff(maxErrorBackoff)
              .listener(listener)
              .build()) {
        relay.start();
        await()
            .atMost(TIMEOUT)
            .untilAsserted(
                () ->
                    assertThat(relay.lastFailure())
                        .isNotNull()
                        .contains(
                            "the dead-letter exchange '" + deadLetterExchange + "' does not exist")
                        .contains("NO_ROUTE"));
        await().atMost(TIMEOUT).until(() -> listener.cycleFailures.size() >= 3);
        assertThat(attempts()).containsOnlyKeys(id).allSatisfy((key, n) -> assertThat(n).isZero());
        assertThat(listener.dead).isEmpty();

        broker.declareExchange(deadLetterExchange);
        String deadLetters = broker.queue("isolation-recheck-dlq");
        broker.channelBind(deadLetters, deadLetterExchange);

        await()
            .atMost(deadLetteredWithin)
            .untilAsserted(
                () -> {
                  assertThat(repository.findDead(10))
                      .extracting(dead -> dead.event().id())
                      .containsExactly(id);
                  assertThat(relay.isHealthy()).isTrue();
                });
        // The dead letter is confirmed before the row is set DEAD
        assertThat(broker.drain(deadLetters))
            .extracting(response -> UUID.fromString(response.getProps().getMessageId()))
            .containsExactly(id);
        assertThat(listener.dead).containsOnlyKeys(id);
      }
      transport.close();
    }
  }

  /** Records what the relay reports, by event id. */
  static final class Recording implements RelayListener {
    final Set<UUID> published = ConcurrentHashMap.newKeySet();
    final Map<UUID, Throwable> retried = new ConcurrentHashMap<>();
    final Map<UUID, Throwable> dead = new ConcurrentHashMap<>();
    final List<Throwable> cycleFailures = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void published(OutboxEvent event, Duration sinceWrite) {
      published.add(event.id());
    }

    @Override
    public void retried(OutboxEvent event, Throwable failure) {
      retried.put(event.id(), failure);
    }

    @Override
    public void deadLettered(OutboxEvent event, Throwable failure, boolean deadLetterSent) {
      dead.put(event.id(), failure);
    }

    @Override
    public void cycleFailed(Throwable failure) {
      cycleFailures.add(failure);
    }
  }
}
