package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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

  private void append(OutboxEvent... events) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, List.of(events));
    }
  }

  @Test
  void claimReturnsEveryFieldAsWrittenInWriteOrder() throws Exception {
    OutboxEvent first = event("a");
    OutboxEvent second = event(null);
    append(first, second);

    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events()).hasSize(2);
      OutboxEvent read = claim.events().get(0);
      assertThat(read).usingRecursiveComparison().ignoringFields("sequence").isEqualTo(first);
      assertThat(read.sequence()).isLessThan(claim.events().get(1).sequence());
      assertThat(claim.events().get(1).key()).isNull();
    }
  }

  @Test
  void claimedRowsAreSkippedByAConcurrentClaimAndReleasedOnClose() throws Exception {
    append(event("a"), event("b"));
    Claim first = repository.claim(1);
    try (Claim second = repository.claim(10)) {
      assertThat(first.events()).hasSize(1);
      assertThat(second.events()).hasSize(1);
      assertThat(second.events().get(0).id()).isNotEqualTo(first.events().get(0).id());
    }
    first.close();
    try (Claim again = repository.claim(10)) {
      assertThat(again.events()).hasSize(2);
    }
  }

  @Test
  void completeDeletesPublishedSchedulesRetriesAndMarksDead() throws Exception {
    OutboxEvent published = event("p");
    OutboxEvent retried = event("r");
    OutboxEvent dead = event("d");
    append(published, retried, dead);

    try (Claim claim = repository.claim(10)) {
      claim.complete(
          List.of(published.id()),
          List.of(new Claim.Retry(retried.id(), 1, Duration.ofHours(1), "timeout")),
          List.of(new Claim.Dead(dead.id(), 4, "too large")));
    }

    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events()).as("the retry is not due for an hour").isEmpty();
    }
    var stats = repository.stats();
    assertThat(stats.pending()).isEqualTo(1);
    assertThat(stats.dead()).isEqualTo(1);
    var deadEvents = repository.findDead(10);
    assertThat(deadEvents)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.event().id()).isEqualTo(dead.id());
              assertThat(d.event().attempts()).isEqualTo(4);
              assertThat(d.lastError()).isEqualTo("too large");
            });
  }

  @Test
  void laterEventsOfAKeyWaitWhileItsEarlierEventWaitsForARetry() throws Exception {
    OutboxEvent k1First = event("k1");
    OutboxEvent k1Second = event("k1");
    OutboxEvent k2 = event("k2");
    append(k1First, k1Second, k2);
    try (Claim claim = repository.claim(10)) {
      claim.complete(
          List.of(),
          List.of(new Claim.Retry(k1First.id(), 1, Duration.ofHours(1), "x")),
          List.of());
    }

    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events()).extracting(OutboxEvent::id).containsExactly(k2.id());
    }
  }

  @Test
  void writersOfTheSameKeyAreSerializedSoTheLateCommitCannotBeOvertaken() throws Exception {
    // T1 writes key K and stays open; T2 writes K too and tries to commit first.
    Connection t1 = TestPostgres.get().connect();
    Connection t2 = TestPostgres.get().connect();
    try {
      t1.setAutoCommit(false);
      t2.setAutoCommit(false);
      OutboxEvent fromT1 = event("K");
      OutboxEvent fromT2 = event("K");
      repository.append(t1, List.of(fromT1));
      int t2Pid = pid(t2);

      CompletableFuture<Void> t2Writes =
          CompletableFuture.runAsync(
              () -> {
                try {
                  repository.append(t2, List.of(fromT2));
                  t2.commit();
                } catch (Exception ex) {
                  throw new IllegalStateException(ex);
                }
              });

      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  TestPostgres.get()
                          .queryLong(
                              "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT"
                                  + " granted AND pid = "
                                  + t2Pid)
                      == 1);
      assertThat(t2Writes).isNotDone();
      try (Claim claim = repository.claim(10)) {
        assertThat(claim.events()).as("nothing of K is visible while T1 is open").isEmpty();
      }

      t1.commit();
      t2Writes.get(10, TimeUnit.SECONDS);

      try (Claim claim = repository.claim(10)) {
        assertThat(claim.events())
            .extracting(OutboxEvent::id)
            .containsExactly(fromT1.id(), fromT2.id());
      }
    } finally {
      t1.close();
      t2.close();
    }
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
              });
      t1.rollback();
      t2Writes.get(10, TimeUnit.SECONDS);
      try (Claim claim = repository.claim(10)) {
        assertThat(claim.events()).extracting(OutboxEvent::id).containsExactly(fromT2.id());
      }
    }
  }

  @Test
  void replayPutsADeadEventBackAndDiscardDeletesIt() throws Exception {
    OutboxEvent a = event("a");
    OutboxEvent b = event("b");
    append(a, b);
    try (Claim claim = repository.claim(10)) {
      claim.complete(
          List.of(),
          List.of(),
          List.of(new Claim.Dead(a.id(), 2, "x"), new Claim.Dead(b.id(), 2, "y")));
    }

    assertThat(repository.replay(a.id())).isTrue();
    assertThat(repository.discard(b.id())).isTrue();
    assertThat(repository.discard(UUID.randomUUID())).isFalse();

    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events())
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.id()).isEqualTo(a.id());
                assertThat(e.attempts()).isZero();
              });
    }
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
  void whileOneRelayHoldsAKeyAnotherRelayClaimsOnlyOtherKeys() throws Exception {
    OutboxEvent k1 = event("K");
    OutboxEvent k2 = event("K");
    OutboxEvent other = event("other");
    append(k1, k2, other);

    try (Claim first = repository.claim(1)) {
      assertThat(first.events()).extracting(OutboxEvent::id).containsExactly(k1.id());
      try (Claim second = repository.claim(10)) {
        assertThat(second.events())
            .as("K#2 must wait while K#1 is in flight elsewhere")
            .extracting(OutboxEvent::id)
            .containsExactly(other.id());
      }
      first.complete(List.of(k1.id()), List.of(), List.of());
    }
    try (Claim next = repository.claim(10)) {
      assertThat(next.events()).extracting(OutboxEvent::id).containsExactly(k2.id(), other.id());
    }
  }

  @Test
  void aDeadEventHoldsBackItsKeyOnlyWhenConfigured() throws Exception {
    OutboxEvent dead = event("K");
    OutboxEvent later = event("K");
    append(dead, later);
    try (Claim claim = repository.claim(1)) {
      claim.complete(List.of(), List.of(), List.of(new Claim.Dead(dead.id(), 1, "x")));
    }
    var blocking =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(),
            table,
            StoreOptions.defaults().withDeadEventBlocksKey(true));
    try (Claim claim = blocking.claim(10)) {
      assertThat(claim.events()).isEmpty();
    }
    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events()).extracting(OutboxEvent::id).containsExactly(later.id());
    }
  }

  @Test
  void aHungRelayLosesItsClaimAfterTheClaimTimeout() throws Exception {
    OutboxEvent event = event("K");
    append(event);
    var quick =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(),
            table,
            StoreOptions.defaults().withClaimTimeout(Duration.ofMillis(300)));

    Claim hung = quick.claim(10);
    assertThat(hung.events()).hasSize(1);
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              try (Claim other = repository.claim(10)) {
                return other.events().size() == 1;
              }
            });
    hung.close();
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
  void aStuckKeyWithMoreQueuedEventsThanABatchDoesNotHoldBackOtherKeys() throws Exception {
    OutboxEvent head = event("stuck");
    append(head);
    for (int i = 0; i < 100; i++) {
      append(event("stuck"));
    }
    OutboxEvent other = event("other");
    append(other);
    try (Claim claim = repository.claim(1)) {
      claim.complete(
          List.of(), List.of(new Claim.Retry(head.id(), 1, Duration.ofHours(1), "x")), List.of());
    }

    try (Claim claim = repository.claim(10)) {
      assertThat(claim.events()).extracting(OutboxEvent::id).containsExactly(other.id());
    }
  }

  @Test
  void aSecondRelayFindsKeysBeyondTheFirstOnesBatch() throws Exception {
    for (int i = 0; i < 30; i++) {
      append(event("k" + i));
    }
    try (Claim first = repository.claim(10);
        Claim second = repository.claim(10)) {
      assertThat(first.events()).hasSize(10);
      assertThat(second.events()).hasSize(10);
      assertThat(second.events())
          .extracting(OutboxEvent::key)
          .doesNotContainAnyElementsOf(first.events().stream().map(OutboxEvent::key).toList());
    }
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
              });
      t1.commit();
      t2Writes.get(10, TimeUnit.SECONDS);
    }
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(4);
  }

  private static int pid(Connection connection) throws Exception {
    try (var statement = connection.createStatement();
        var rs = statement.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
