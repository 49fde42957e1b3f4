package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.RelayStore;
import dev.outbox.store.Slots;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The relay against the real PostgreSQL table, with a scripted transport. */
class OutboxRelayIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("relay");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final ScriptedTransport transport = new ScriptedTransport();
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;
  private OutboxRelay relay;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
  }

  @AfterEach
  void tearDown() {
    if (relay != null) {
      relay.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  private OutboxRelay.Builder relayBuilder() {
    return OutboxRelay.builder()
        .repository(repository)
        .transport(transport)
        .pollInterval(Duration.ofMillis(50))
        .publishTimeout(Duration.ofSeconds(10))
        .retryPolicy(
            RetryPolicy.defaults()
                .withMaxAttempts(3)
                .withInitialBackoff(Duration.ofMillis(100))
                .withMaxBackoff(Duration.ofMillis(200)));
  }

  private List<UUID> write(List<OutboxMessage> messages) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  private long rows() {
    return TestPostgres.get().queryLong("SELECT count(*) FROM " + table);
  }

  @Test
  void publishesEveryEventInKeyOrderAndDeletesThePublishedRows() throws Exception {
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < 1200; i++) {
      messages.add(OutboxMessage.of("orders", "key-" + (i % 10), "{\"n\":" + i + "}"));
    }
    List<UUID> ids = write(messages);

    relay = relayBuilder().batchSize(250).build();
    relay.start();

    await().atMost(Duration.ofSeconds(30)).until(() -> transport.delivered().size() >= 1200);
    await().atMost(Duration.ofSeconds(10)).until(() -> rows() == 0);
    assertThat(transport.delivered())
        .extracting(OutboxEvent::id)
        .containsExactlyInAnyOrderElementsOf(ids);
    for (int k = 0; k < 10; k++) {
      String key = "key-" + k;
      List<Long> sequences =
          transport.delivered().stream()
              .filter(e -> key.equals(e.key()))
              .map(OutboxEvent::sequence)
              .toList();
      assertThat(sequences).as("write order of %s", key).isSorted().hasSize(120);
    }
  }

  @Test
  void transientFailureIsRetriedWithTheSameIdThenPublished() throws Exception {
    transport.fail("flaky", 2, new IllegalStateException("broker busy"));
    UUID id = write(List.of(OutboxMessage.of("flaky", "k", "{}"))).get(0);

    relay = relayBuilder().build();
    relay.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 1);
    assertThat(transport.attempts()).extracting(OutboxEvent::id).containsExactly(id, id, id);
    assertThat(transport.delivered().get(0).attempts()).isEqualTo(2);
    await().atMost(Duration.ofSeconds(5)).until(() -> rows() == 0);
    assertThat(transport.deadLetters()).isEmpty();
  }

  @Test
  void exhaustedRetriesMakeTheEventDeadAndDeadLetterIt() throws Exception {
    transport.fail("down", 100, new IllegalStateException("no route"));
    UUID id = write(List.of(OutboxMessage.of("down", "k", "{}"))).get(0);

    relay = relayBuilder().build();
    relay.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> repository.findDead(10).size() == 1);
    var dead = repository.findDead(10).get(0);
    assertThat(dead.event().id()).isEqualTo(id);
    assertThat(dead.event().attempts()).isEqualTo(3);
    assertThat(dead.lastError()).contains("IllegalStateException: no route");
    assertThat(transport.attempts()).hasSize(3);
    assertThat(transport.deadLetters())
        .singleElement()
        .satisfies(d -> assertThat(d.deadLetter().attempts()).isEqualTo(3));
    assertThat(repository.stats().dead()).isEqualTo(1);
  }

  @Test
  void nonRetryableFailureIsDeadLetteredAtOnce() throws Exception {
    transport.fail("too-big", 100, new ScriptedTransport.Fatal("record too large"));
    write(List.of(OutboxMessage.of("too-big", "k", "{}")));

    relay = relayBuilder().build();
    relay.start();

    await().atMost(Duration.ofSeconds(10)).until(() -> repository.findDead(10).size() == 1);
    assertThat(transport.attempts()).hasSize(1);
    assertThat(repository.findDead(10).get(0).event().attempts()).isEqualTo(1);
    assertThat(transport.deadLetters()).hasSize(1);
  }

  @Test
  void aRetryingEventHoldsBackLaterEventsOfItsKeyButNotOtherKeys() throws Exception {
    transport.fail("stuck", 1, new IllegalStateException("timeout"));
    write(List.of(OutboxMessage.of("stuck", "k1", "{\"n\":1}")));
    write(List.of(OutboxMessage.of("orders", "k1", "{\"n\":2}")));
    write(List.of(OutboxMessage.of("orders", "k2", "{\"n\":3}")));

    relay =
        relayBuilder()
            .retryPolicy(
                RetryPolicy.defaults()
                    .withInitialBackoff(Duration.ofSeconds(2))
                    .withMaxBackoff(Duration.ofSeconds(2))
                    .withJitter(0))
            .build();
    relay.start();

    await().atMost(Duration.ofSeconds(5)).until(() -> transport.delivered().size() == 1);
    assertThat(transport.delivered().get(0).key()).isEqualTo("k2");
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 3);
    assertThat(transport.delivered())
        .extracting(OutboxEvent::payload)
        .containsExactly("{\"n\":3}", "{\"n\":1}", "{\"n\":2}");
  }

  @Test
  void unkeyedEventsWaitingForARetryDoNotHoldUpTheEventsQueuedBehindThemInTheirSlot()
      throws Exception {
    // More unkeyed events of one slot than a batch reads per slot, all failing, retried in an hour
    int slot = 7;
    transport.fail("flaky", Integer.MAX_VALUE, new IllegalStateException("no route"));
    TestEvents events = new TestEvents(Clock.systemUTC());
    List<OutboxEvent> flaky = new ArrayList<>();
    while (flaky.size() < 3 * BatchPublisher.MIN_ROWS_PER_SLOT) {
      OutboxEvent event = events.event("flaky", null);
      if (Slots.of(null, event.id()) == slot) {
        flaky.add(event);
      }
    }
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, flaky);
    }
    relay =
        relayBuilder()
            .batchSize(BatchPublisher.MIN_ROWS_PER_SLOT)
            .retryPolicy(
                RetryPolicy.defaults()
                    .withMaxBackoff(Duration.ofHours(1))
                    .withInitialBackoff(Duration.ofHours(1)))
            .build();
    relay.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                TestPostgres.get()
                        .queryLong("SELECT count(*) FROM " + table + " WHERE attempts = 1")
                    >= BatchPublisher.MIN_ROWS_PER_SLOT);

    // Events written after them into the same slot: a keyed one and an unkeyed one
    OutboxEvent unkeyed;
    do {
      unkeyed = events.event("orders", null);
    } while (Slots.of(null, unkeyed.id()) != slot);
    OutboxEvent keyed = events.event("orders", TestEvents.keyInSlot(slot, "order"));
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, List.of(unkeyed, keyed));
    }
    relay.wakeUp();

    // Within a few poll intervals; before, not until the retries of the hour were due
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 2);
    assertThat(transport.delivered())
        .extracting(OutboxEvent::id)
        .containsExactlyInAnyOrder(unkeyed.id(), keyed.id());
    await().atMost(Duration.ofSeconds(5)).until(() -> rows() == flaky.size());
  }

  @Test
  void aKeyWaitingForItsRetryWithMoreQueuedEventsThanAReadTakesDoesNotHoldUpTheKeysBehindIt()
      throws Exception {
    // A key whose oldest event waits for a retry (recorded by an earlier owner of its slot), with
    // more events queued than a read takes per slot, and another key's event behind them
    int slot = 11;
    String stuck = TestEvents.keyInSlot(slot, "stuck");
    List<OutboxMessage> queued = new ArrayList<>();
    for (int i = 0; i < 2 * BatchPublisher.MIN_ROWS_PER_SLOT; i++) {
      queued.add(OutboxMessage.of("orders", stuck, "{\"n\":" + i + "}"));
    }
    UUID oldest = write(queued).get(0);
    TestPostgres.get()
        .execute(
            "UPDATE "
                + table
                + " SET attempts = 1, available_at = now() + interval '1 hour' WHERE id = '"
                + oldest
                + "'");
    UUID behind =
        write(List.of(OutboxMessage.of("orders", TestEvents.keyInSlot(slot, "other"), "{}")))
            .get(0);

    // Renewals ten minutes apart (every minute while the slots settle): only the read that holds
    // the stuck key back can lead to the event behind it
    relay =
        relayBuilder()
            .batchSize(BatchPublisher.MIN_ROWS_PER_SLOT)
            .pollInterval(Duration.ofMinutes(10))
            .build();
    relay.start();

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> transport.delivered().stream().anyMatch(e -> e.id().equals(behind)));
    assertThat(transport.attempts()).noneMatch(e -> stuck.equals(e.key()));
  }

  @Test
  void eventsOfACrashedRelayAreClaimedAgainWithTheSameIds() throws Exception {
    List<UUID> ids =
        write(
            List.of(OutboxMessage.of("orders", "a", "{}"), OutboxMessage.of("orders", "b", "{}")));

    // A relay instance that held every slot and read the events, then died before completing
    // them: its database session ends with it.
    var crashed = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    var held = crashed.rebalanceLeases("crashed", Duration.ofMinutes(5), List.of());
    assertThat(held.tokens()).hasSize(RelayStore.SLOTS);
    assertThat(
            crashed.candidates(
                held.tokens().keySet(), held.tokens().values(), 10, RelayStore.Held.NONE))
        .hasSize(2);
    TestPostgres.get()
        .execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM "
                + table
                + "_relay WHERE member = 'crashed'");

    relay = relayBuilder().build();
    relay.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 2);
    // Keys a and b are independent (two workers may publish them in either order).
    assertThat(transport.delivered())
        .extracting(OutboxEvent::id)
        .containsExactlyInAnyOrderElementsOf(ids);
  }

  /**
   * An instance whose database session ended (its connection killed or reset, the database
   * restarted or failed over) is dead in the other instances' eyes at once, and they take its
   * slots; it learns so only at its next renewal, up to a poll interval later, and meanwhile still
   * believes it holds them. Its reads are fenced by the lease tokens it was granted, so it reads
   * nothing of the slots taken over, and the events of those slots are published by their new owner
   * alone, once each, in key order.
   */
  @Test
  void aRelayWhoseSessionEndedReadsNothingOfTheSlotsAnotherInstanceTookBeforeItRenews()
      throws Exception {
    // A renews every ten minutes (every minute while its slots settle): not during this test
    ReadCounter readsOfA =
        new ReadCounter(new PostgresOutboxRepository(TestPostgres.get().dataSource(), table));
    RecordingTransport transportOfA = new RecordingTransport();
    OutboxRelay a =
        relayBuilder()
            .name("a")
            .repository(readsOfA.proxy())
            .transport(transportOfA)
            .pollInterval(Duration.ofMinutes(10))
            .build();
    // B does not acknowledge its sends until the test lets it: the events stay pending meanwhile
    RecordingTransport transportOfB =
        new RecordingTransport().holdDestination("orders", Integer.MAX_VALUE);
    OutboxRelay b =
        relayBuilder()
            .name("b")
            .transport(transportOfB)
            .publishTimeout(Duration.ofMinutes(2))
            .build();
    try {
      a.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> a.ownedSlots() == RelayStore.SLOTS);
      assertThat(
              TestPostgres.get()
                  .queryLong(
                      "SELECT count(*) FROM "
                          + table
                          + "_relay WHERE member LIKE 'a-%' AND pg_terminate_backend(pid, 10000)"))
          .as("A's anchor sessions ended")
          .isEqualTo(1);

      b.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> b.ownedSlots() == RelayStore.SLOTS);
      assertThat(a.ownedSlots()).as("slots A believes it holds").isEqualTo(RelayStore.SLOTS);

      List<OutboxMessage> messages = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        messages.add(OutboxMessage.of("orders", "key-" + (i % 20), "{\"n\":" + i + "}"));
      }
      List<UUID> ids = write(messages);
      readsOfA.countFromNow();
      a.wakeUp();
      b.wakeUp();

      await().atMost(Duration.ofSeconds(10)).until(() -> readsOfA.reads() >= 1);
      assertThat(readsOfA.rowsRead()).as("rows A read of the slots B took").isZero();
      assertThat(transportOfA.sends()).as("events A sent").isEmpty();

      // B's sends are acknowledged from now on, as each comes
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                transportOfB.sends().forEach(send -> send.future().complete(null));
                return rows() == 0;
              });
      assertThat(transportOfB.sentIds()).containsExactlyInAnyOrderElementsOf(ids);
      for (int k = 0; k < 20; k++) {
        String key = "key-" + k;
        assertThat(
                transportOfB.sends().stream()
                    .filter(send -> key.equals(send.event().key()))
                    .map(send -> send.event().sequence())
                    .toList())
            .as("write order of %s", key)
            .isSorted()
            .hasSize(10);
      }
      assertThat(transportOfA.sends()).as("events A sent").isEmpty();
      assertThat(readsOfA.reads())
          .as("reads by A's workers (one each per wake-up), not read again while nothing wakes it")
          .isBetween(1, 2);
    } finally {
      b.close();
      a.close();
    }
  }

  /** A store that counts the reads the relay publishes from, and the rows they return. */
  private static final class ReadCounter {
    private final OutboxRepository store;
    private volatile boolean counting;
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger rowsRead = new AtomicInteger();

    ReadCounter(OutboxRepository store) {
      this.store = store;
    }

    /** Counts the reads that start from now on. */
    void countFromNow() {
      counting = true;
    }

    int reads() {
      return reads.get();
    }

    int rowsRead() {
      return rowsRead.get();
    }

    OutboxRepository proxy() {
      return (OutboxRepository)
          Proxy.newProxyInstance(
              OutboxRepository.class.getClassLoader(),
              new Class<?>[] {OutboxRepository.class},
              (proxy, method, args) -> {
                boolean counted = counting;
                Object result;
                try {
                  result = method.invoke(store, args);
                } catch (InvocationTargetException ex) {
                  throw ex.getCause();
                }
                if (counted) {
                  List<?> rows =
                      switch (method.getName()) {
                        case "candidates" -> (List<?>) result;
                        case "prefetch" -> ((RelayStore.Prefetched) result).candidates();
                        default -> null;
                      };
                  if (rows != null) {
                    rowsRead.addAndGet(rows.size());
                    reads.incrementAndGet();
                  }
                }
                return result;
              });
    }
  }

  /**
   * The lease anchor's session is named after the relay's member in {@code pg_stat_activity}, so an
   * operator finds the instance that holds a stuck event's slot from the slot table; it goes back
   * to the application's pool under the application's name. The pool here resets nothing: it hands
   * the same sessions out again as they were returned.
   */
  @Test
  void theLeaseAnchorIsNamedAfterItsMemberAndReturnsToThePoolUnderItsOwnName() throws Exception {
    PGSimpleDataSource named = (PGSimpleDataSource) TestPostgres.get().dataSource();
    named.setApplicationName("orders-app");
    List<Connection> sessions = new CopyOnWriteArrayList<>();
    relay =
        relayBuilder()
            .name("orders-relay-of-the-eu-west-region") // an id longer than 63 characters
            .repository(new PostgresOutboxRepository(keepingPool(named, sessions), table))
            .build();
    relay.start();
    String member = relay.member();
    await().atMost(Duration.ofSeconds(10)).until(() -> anchorName(member) != null);

    String name = anchorName(member);
    assertThat(member).hasSizeGreaterThan(63);
    assertThat(name)
        .hasSize(63)
        .startsWith(member.substring(0, 26))
        .endsWith(member.substring(member.length() - 37)); // "-" and the UUID
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + name
                        + "'"))
        .isEqualTo(1);

    relay.stop(Duration.ofSeconds(10));
    assertThat(sessions).isNotEmpty();
    for (Connection session : sessions) {
      assertThat(session.isClosed()).isFalse();
      try (var statement = session.createStatement();
          var rs = statement.executeQuery("SELECT current_setting('application_name')")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("orders-app");
      }
    }
    for (Connection session : sessions) {
      session.close();
    }
  }

  /** The {@code application_name} of the session {@code member} registered, or null. */
  private String anchorName(String member) throws SQLException {
    try (Connection connection = TestPostgres.get().connect();
        var statement =
            connection.prepareStatement(
                "SELECT a.application_name FROM "
                    + table
                    + "_relay m JOIN pg_stat_activity a ON a.pid = m.pid WHERE m.member = ?")) {
      statement.setString(1, member);
      try (var rs = statement.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /**
   * A pool that resets nothing: a connection closed is handed out again as it is; every session it
   * opened is added to {@code sessions}, and closing them is the caller's.
   */
  private static DataSource keepingPool(DataSource dataSource, List<Connection> sessions) {
    Deque<Connection> idle = new ConcurrentLinkedDeque<>();
    return (DataSource)
        Proxy.newProxyInstance(
            OutboxRelayIntegrationTests.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (pool, method, args) -> {
              if (!method.getName().equals("getConnection") || args != null) {
                throw new UnsupportedOperationException(method.getName());
              }
              Connection session = idle.pollFirst();
              if (session == null) {
                session = dataSource.getConnection();
                sessions.add(session);
              }
              Connection borrowed = session;
              return Proxy.newProxyInstance(
                  OutboxRelayIntegrationTests.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (proxy, call, callArgs) -> {
                    if (call.getName().equals("close") && call.getParameterCount() == 0) {
                      idle.addFirst(borrowed);
                      return null;
                    }
                    try {
                      return call.invoke(borrowed, callArgs);
                    } catch (InvocationTargetException ex) {
                      throw ex.getCause();
                    }
                  });
            });
  }

  @Test
  void survivesTheDatabaseGoingAwayAndResumes() throws Exception {
    PGSimpleDataSource switchable = (PGSimpleDataSource) TestPostgres.get().dataSource();
    int realPort = switchable.getPortNumbers()[0] == 0 ? 5432 : switchable.getPortNumbers()[0];
    switchable.setPortNumbers(new int[] {1});
    PostgresOutboxRepository unreachable = new PostgresOutboxRepository(switchable, table);
    List<UUID> ids = write(List.of(OutboxMessage.of("orders", "x", "{}")));

    relay = relayBuilder().repository(unreachable).maxErrorBackoff(Duration.ofMillis(200)).build();
    relay.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> !relay.isHealthy());
    assertThat(relay.lastFailure()).startsWith("leases: ").contains("relay leases");
    assertThat(rows()).isEqualTo(1);

    switchable.setPortNumbers(new int[] {realPort});
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 1);
    assertThat(transport.delivered().get(0).id()).isEqualTo(ids.get(0));
    await().atMost(Duration.ofSeconds(5)).until(relay::isHealthy);
  }

  /**
   * A database (or role, or pool) whose default isolation is serializable: the application's
   * transactions write events while the relay drains them. The relay's own statements run at read
   * committed, so none of its cycles fails, no application transaction fails because of it, and
   * every event is published once. When they ran at the default isolation, the deletions of
   * published batches failed with "could not serialize access due to read/write dependencies" and
   * their events went out again, and writers' commits failed with the same error.
   */
  @Test
  void underASerializableDefaultIsolationNoCycleFailsAndEveryEventIsPublishedOnce()
      throws Exception {
    PGSimpleDataSource serializable = (PGSimpleDataSource) TestPostgres.get().dataSource();
    serializable.setOptions("-c default_transaction_isolation=serializable");
    PostgresOutboxRepository serializableStore = new PostgresOutboxRepository(serializable, table);
    OutboxWriter serializableWriter =
        new OutboxWriter(
            serializableStore, Object::toString, HeaderCapture.none(), Clock.systemUTC());
    List<String> cycleFailures = new CopyOnWriteArrayList<>();
    relay =
        relayBuilder()
            .repository(serializableStore)
            .listener(
                new RelayListener() {
                  @Override
                  public void cycleFailed(Throwable failure) {
                    cycleFailures.add(failure.toString());
                  }
                })
            .build();
    relay.start();

    List<List<UUID>> written =
        TestThreads.allAtOnce(
            6,
            writer -> {
              List<UUID> ids = new ArrayList<>();
              try (Connection connection = serializable.getConnection()) {
                connection.setAutoCommit(false);
                for (int i = 0; i < 500; i++) {
                  OutboxMessage message =
                      OutboxMessage.of("orders", "key-" + ((writer * 500 + i) % 50), "{}");
                  ids.addAll(serializableWriter.write(connection, List.of(message)));
                  connection.commit();
                }
              } catch (SQLException ex) {
                throw new IllegalStateException(
                    "An application transaction failed: " + ex.getMessage(), ex);
              }
              return ids;
            },
            Duration.ofMinutes(2));
    List<UUID> ids = written.stream().flatMap(List::stream).toList();

    await().atMost(Duration.ofSeconds(60)).until(() -> rows() == 0);
    assertThat(cycleFailures).isEmpty();
    assertThat(transport.delivered())
        .extracting(OutboxEvent::id)
        .containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void aBrokerOutageLongerThanTheRetryBudgetDeadLettersNothing() throws Exception {
    transport.fail("orders", 20, new ScriptedTransport.Unreachable());
    UUID id = write(List.of(OutboxMessage.of("orders", "k", "{}"))).get(0);

    relay = relayBuilder().maxErrorBackoff(Duration.ofMillis(50)).build();
    relay.start();

    await().atMost(Duration.ofSeconds(20)).until(() -> transport.delivered().size() == 1);
    assertThat(transport.attempts()).hasSizeGreaterThan(3).allMatch(e -> e.id().equals(id));
    assertThat(transport.delivered().get(0).attempts())
        .as("outage attempts are not charged; maxAttempts is 3")
        .isZero();
    assertThat(transport.deadLetters()).isEmpty();
  }

  @Test
  void replayedDeadEventIsPublishedAgainWithItsIdAndDiscardDeletesIt() throws Exception {
    transport.fail("once-fatal", 1, new ScriptedTransport.Fatal("bad"));
    UUID id = write(List.of(OutboxMessage.of("once-fatal", "k", "{}"))).get(0);
    relay = relayBuilder().build();
    relay.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> repository.findDead(10).size() == 1);

    assertThat(repository.replay(id)).isTrue();
    relay.wakeUp();
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.delivered().size() == 1);
    assertThat(transport.delivered().get(0).id()).isEqualTo(id);
    assertThat(repository.discard(id)).as("nothing dead left to discard").isFalse();
  }
}
