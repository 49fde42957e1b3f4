package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PostgresOutboxRepositoryIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("repo");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository repository;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
  }

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private static OutboxEvent event(String key) {
    return new OutboxEvent(
        EventIds.next(),
        0,
        "orders",
        key,
        "Order",
        "OrderPlaced",
        1,
        "{\"key\":\"" + key + "\"}",
        Map.of(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "q",
            "a\"b\\c\n"),
        Instant.now().truncatedTo(ChronoUnit.MICROS),
        0);
  }

  /** The pending events a relay holding every slot reads now, in write order. */
  private List<UUID> pendingIds() {
    var leases = repository.rebalanceLeases("reader", Duration.ofSeconds(30), List.of());
    assertThat(leases.tokens()).as("the reader holds every slot").hasSize(RelayStore.SLOTS);
    return repository
        .candidates(leases.tokens().keySet(), leases.tokens().values(), 100, RelayStore.Held.NONE)
        .stream()
        .map(RelayStore.Candidate::id)
        .toList();
  }

  private void append(OutboxEvent... events) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, List.of(events));
    }
  }

  @Test
  void writersOfTheSameKeyAreSerializedSoTheLateCommitCannotBeOvertaken() throws Exception {
    try (Connection t1 = TestPostgres.get().connect();
        Connection t2 = TestPostgres.get().connect()) {
      assertSecondWriterOfAKeyWaitsForTheFirst(repository, t1, repository, t2);
    }
  }

  /**
   * Instances may name one table with its schema or without it (found through the search path),
   * e.g. while a change of configuration rolls out: their writers of one key must still wait for
   * each other, so the key lock cannot depend on how the table is spelled.
   */
  @Test
  void writersNamingTheTableWithAndWithoutItsSchemaAreSerializedToo() throws Exception {
    PostgresOutboxRepository throughSearchPath =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(), TableName.of(null, "outbox_event"));
    try (Connection t1 = TestPostgres.get().connect();
        Connection t2 = TestPostgres.get().connect()) {
      TestPostgres.get().execute(t1, "SET search_path TO " + schema);
      assertSecondWriterOfAKeyWaitsForTheFirst(throughSearchPath, t1, repository, t2);
    }
  }

  /**
   * T1 writes key K through {@code first} and stays open; T2 writes K through {@code second} and
   * tries to commit first: it waits for T1's key lock, and K's events are pending in commit order.
   */
  private void assertSecondWriterOfAKeyWaitsForTheFirst(
      PostgresOutboxRepository first, Connection t1, PostgresOutboxRepository second, Connection t2)
      throws Exception {
    t1.setAutoCommit(false);
    t2.setAutoCommit(false);
    OutboxEvent fromT1 = event("K");
    OutboxEvent fromT2 = event("K");
    first.append(t1, List.of(fromT1));
    int t2Pid = pid(t2);

    CompletableFuture<Void> t2Writes =
        CompletableFuture.runAsync(
            () -> {
              try {
                second.append(t2, List.of(fromT2));
                t2.commit();
              } catch (Exception ex) {
                throw new IllegalStateException(ex);
              }
            },
            TestThreads.OWN_THREAD);

    waitUntilWaitingForALock(t2Pid);
    assertThat(t2Writes).isNotDone();
    assertThat(pendingIds()).as("nothing of K is visible while T1 is open").isEmpty();

    t1.commit();
    t2Writes.get(10, TimeUnit.SECONDS);

    assertThat(pendingIds()).containsExactly(fromT1.id(), fromT2.id());
  }

  @Test
  void aRolledBackEarlierWriterReleasesTheKey() throws Exception {
    try (Connection t1 = TestPostgres.get().connect();
        Connection t2 = TestPostgres.get().connect()) {
      t1.setAutoCommit(false);
      t2.setAutoCommit(false);
      repository.append(t1, List.of(event("K")));
      OutboxEvent fromT2 = event("K");
      CompletableFuture<Void> t2Writes =
          CompletableFuture.runAsync(
              () -> {
                try {
                  repository.append(t2, List.of(fromT2));
                  t2.commit();
                } catch (Exception ex) {
                  throw new IllegalStateException(ex);
                }
              },
              TestThreads.OWN_THREAD);
      t1.rollback();
      t2Writes.get(10, TimeUnit.SECONDS);
      assertThat(pendingIds()).containsExactly(fromT2.id());
    }
  }

  @Test
  void anEventBehindARetryStillWaitingIsNotDueAndOneWhoseRetryIsDueIs() throws Exception {
    OutboxEvent head = event("held");
    OutboxEvent behind = event("held");
    append(head, behind);
    assertThat(repository.hasDueEvents()).as("two new events").isTrue();

    // The head failed once and waits an hour for its retry; the key's next event waits behind it.
    TestPostgres.get()
        .execute(
            "UPDATE "
                + table.qualified()
                + " SET attempts = 1, available_at = now() + interval '1 hour' WHERE id = '"
                + head.id()
                + "'");
    assertThat(repository.hasDueEvents()).as("only a retry waiting, and what it holds").isFalse();

    OutboxEvent other = event("free");
    append(other);
    assertThat(repository.hasDueEvents()).as("a new event of another key").isTrue();
    TestPostgres.get()
        .execute("DELETE FROM " + table.qualified() + " WHERE id = '" + other.id() + "'");

    TestPostgres.get()
        .execute(
            "UPDATE "
                + table.qualified()
                + " SET available_at = now() - interval '1 second' WHERE id = '"
                + head.id()
                + "'");
    assertThat(repository.hasDueEvents()).as("the retry is due").isTrue();
  }

  @Test
  void replayPutsADeadEventBackAndDiscardDeletesIt() throws Exception {
    OutboxEvent a = event("a");
    OutboxEvent b = event("b");
    append(a, b);
    var leases = repository.rebalanceLeases("m", Duration.ofSeconds(30), List.of());
    repository.complete(
        "m",
        leases.tokens().values(),
        List.of(),
        List.of(),
        List.of(new RelayStore.Dead(a.id(), 2, "x"), new RelayStore.Dead(b.id(), 2, "y")));

    assertThat(repository.replay(a.id())).isTrue();
    assertThat(repository.discard(b.id())).isTrue();
    assertThat(repository.discard(UUID.randomUUID())).isFalse();

    var pending =
        repository.candidates(
            leases.tokens().keySet(), leases.tokens().values(), 10, RelayStore.Held.NONE);
    assertThat(pending)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.id()).isEqualTo(a.id());
              assertThat(c.attempts()).isZero();
              assertThat(c.due()).isTrue();
            });
    assertThat(repository.stats().dead()).isZero();
  }

  @Test
  void verifySchemaNamesWhatToDoWhenTheTableIsMissing() {
    var missing =
        new PostgresOutboxRepository(TestPostgres.get().dataSource(), TableName.of(schema, "nope"));
    assertThatThrownBy(missing::verifySchema)
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("'" + schema + ".nope' does not exist")
        .hasMessageContaining("outbox.migration.enabled");
    repository.verifySchema();
  }

  @Test
  void changeDataCaptureModeDeletesEachEventInTheTransactionThatWroteIt() throws Exception {
    var cdc =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(),
            table,
            StoreOptions.defaults().withDeleteAfterWrite(true));
    try (Connection connection = TestPostgres.get().connect()) {
      connection.setAutoCommit(false);
      cdc.append(connection, List.of(event("K"), event(null)));
      // Both rows were inserted (what a CDC reader of the write-ahead log sees) and deleted again,
      // inside this transaction.
      try (var statement =
          connection.prepareStatement(
              "SELECT n_tup_ins, n_tup_del FROM pg_stat_xact_user_tables"
                  + " WHERE schemaname = ? AND relname = 'outbox_event'"); ) {
        statement.setString(1, schema);
        try (var rs = statement.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getLong(1)).isEqualTo(2);
          assertThat(rs.getLong(2)).isEqualTo(2);
        }
      }
      connection.commit();
    }
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isZero();
  }

  @Test
  void writersOfSeveralKeysInOppositeOrderDoNotDeadlock() throws Exception {
    try (Connection t1 = TestPostgres.get().connect();
        Connection t2 = TestPostgres.get().connect()) {
      t1.setAutoCommit(false);
      t2.setAutoCommit(false);
      repository.append(t1, List.of(event("A"), event("B")));
      CompletableFuture<Void> t2Writes =
          CompletableFuture.runAsync(
              () -> {
                try {
                  repository.append(t2, List.of(event("B"), event("A")));
                  t2.commit();
                } catch (Exception ex) {
                  throw new IllegalStateException(ex);
                }
              },
              TestThreads.OWN_THREAD);
      t1.commit();
      t2Writes.get(10, TimeUnit.SECONDS);
    }
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(4);
  }

  /**
   * Separate writes in one transaction lock their keys in the order of the calls: two transactions
   * writing the same two keys in opposite order in separate calls wait for each other. PostgreSQL
   * detects the cycle (after {@code deadlock_timeout}) and aborts exactly one of them, whose write
   * fails with a message saying what happened and what to do; the other commits. Nothing of the
   * aborted one remains, and retrying it succeeds.
   */
  @Test
  void separateWritesOfTheSameKeysInOppositeOrderEndWithOneAbortedTransactionNotAHang()
      throws Exception {
    try (Connection t1 = TestPostgres.get().connect();
        Connection t2 = TestPostgres.get().connect()) {
      t1.setAutoCommit(false);
      t2.setAutoCommit(false);
      repository.append(t1, List.of(event("A")));
      repository.append(t2, List.of(event("B")));
      int t1Pid = pid(t1);
      CountDownLatch start = new CountDownLatch(1);
      CompletableFuture<Void> t1Second =
          CompletableFuture.runAsync(
              () -> {
                awaitLatch(start);
                repository.append(t1, List.of(event("B")));
              },
              TestThreads.OWN_THREAD);
      CompletableFuture<Void> t2Second =
          CompletableFuture.runAsync(
              () -> {
                awaitLatch(start);
                waitUntilWaitingForALock(t1Pid);
                repository.append(t2, List.of(event("A")));
              },
              TestThreads.OWN_THREAD);
      start.countDown();

      List<Throwable> failures = new java.util.ArrayList<>();
      List<Connection> survivors = new java.util.ArrayList<>();
      List<Connection> victims = new java.util.ArrayList<>();
      for (var attempt : List.of(Map.entry(t1, t1Second), Map.entry(t2, t2Second))) {
        try {
          attempt.getValue().get(30, TimeUnit.SECONDS);
          survivors.add(attempt.getKey());
        } catch (java.util.concurrent.ExecutionException ex) {
          failures.add(ex.getCause());
          victims.add(attempt.getKey());
        }
      }
      assertThat(failures).as("exactly one transaction is aborted").hasSize(1);
      assertThat(failures.get(0))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("deadlock detected")
          .hasMessageContaining("PostgreSQL aborted this transaction to break the cycle")
          .hasMessageContaining("retry it");
      assertThat(((java.sql.SQLException) failures.get(0).getCause()).getSQLState())
          .isEqualTo("40P01");

      survivors.get(0).commit();
      victims.get(0).rollback();
      assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(2);

      // The aborted transaction, retried, goes through.
      Connection retry = victims.get(0);
      repository.append(retry, List.of(event(retry == t1 ? "A" : "B")));
      repository.append(retry, List.of(event(retry == t1 ? "B" : "A")));
      retry.commit();
      assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(4);
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not started within 30 s");
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }

  private static void waitUntilWaitingForALock(int pid) {
    await("session " + pid + " waiting for a lock")
        .atMost(Duration.ofSeconds(30))
        .until(() -> TestPostgres.get().sessionsWaitingForALock(pid) == 1);
  }

  private static int pid(Connection connection) throws Exception {
    try (var statement = connection.createStatement();
        var rs = statement.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
