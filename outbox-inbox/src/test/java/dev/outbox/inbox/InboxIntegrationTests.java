package dev.outbox.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.OutboxException;
import dev.outbox.inbox.spring.InboxCleaner;
import dev.outbox.inbox.spring.InboxSchemaInitializer;
import dev.outbox.inbox.spring.SpringInbox;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The programmatic inbox on plain JDBC transactions ({@link DataSourceTransactionManager}) against
 * the real PostgreSQL, in a schema of its own.
 */
class InboxIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  static String schema;
  static DataSource dataSource;
  static InboxTable table;
  static PostgresInboxStore store;
  static JdbcClient jdbc;
  static TransactionTemplate transactions;
  static final List<String> events = new CopyOnWriteArrayList<>();
  static SpringInbox inbox;

  @BeforeAll
  static void createSchema() {
    schema = TestPostgres.get().createSchema("inbox_api");
    dataSource = TestPostgres.get().dataSource();
    table = InboxTable.of(schema, "outbox_inbox");
    store = new PostgresInboxStore(dataSource, table);
    new InboxSchemaInitializer(dataSource, store, true).initialize();
    jdbc = JdbcClient.create(dataSource);
    jdbc.sql("CREATE TABLE " + schema + ".effects (message_id text NOT NULL)").update();
    DataSourceTransactionManager manager = new DataSourceTransactionManager(dataSource);
    transactions = new TransactionTemplate(manager);
    InboxListener recording =
        new InboxListener() {
          @Override
          public void handled(String consumer, String messageId) {
            events.add("handled " + consumer + " " + messageId);
          }

          @Override
          public void duplicate(String consumer, String messageId) {
            events.add("duplicate " + consumer + " " + messageId);
          }
        };
    inbox = new SpringInbox(dataSource, store, transactions, recording, () -> {});
  }

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private static void effect(String messageId) {
    jdbc.sql("INSERT INTO " + schema + ".effects VALUES (?)").param(messageId).update();
  }

  private static long effects(String messageId) {
    return jdbc.sql("SELECT count(*) FROM " + schema + ".effects WHERE message_id = ?")
        .param(messageId)
        .query(Long.class)
        .single();
  }

  private static long inboxRows(String consumer, String messageId) {
    return jdbc.sql("SELECT count(*) FROM " + table + " WHERE consumer = ? AND message_id = ?")
        .param(consumer)
        .param(messageId)
        .query(Long.class)
        .single();
  }

  @Test
  void secondDeliveryOfTheSameIdIsSkipped() {
    String id = UUID.randomUUID().toString();

    boolean first = inbox.handleOnce(id, "stock", () -> effect(id));
    boolean second = inbox.handleOnce(id, "stock", () -> effect(id));

    assertThat(first).isTrue();
    assertThat(second).isFalse();
    assertThat(effects(id)).isOne();
    assertThat(inboxRows("stock", id)).isOne();
    assertThat(events).contains("handled stock " + id, "duplicate stock " + id);
  }

  @Test
  void eachConsumerHandlesAMessageOnce() {
    String id = UUID.randomUUID().toString();

    assertThat(inbox.handleOnce(id, "stock", () -> effect(id))).isTrue();
    assertThat(inbox.handleOnce(id, "billing", () -> effect(id))).isTrue();
    assertThat(inbox.handleOnce(id, "billing", () -> effect(id))).isFalse();

    assertThat(effects(id)).isEqualTo(2);
  }

  @Test
  void rollbackLeavesNoInboxRowAndTheRedeliveryIsHandled() {
    String id = UUID.randomUUID().toString();

    assertThatThrownBy(
            () ->
                inbox.handleOnce(
                    id,
                    "stock",
                    () -> {
                      effect(id);
                      throw new IllegalStateException("stock service down");
                    }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("stock service down");
    assertThat(inboxRows("stock", id)).isZero();
    assertThat(effects(id)).isZero();
    assertThat(events).doesNotContain("handled stock " + id);

    assertThat(inbox.handleOnce(id, "stock", () -> effect(id))).isTrue();
    assertThat(effects(id)).isOne();
    assertThat(inboxRows("stock", id)).isOne();
  }

  @Test
  void joinsTheCallersTransactionSoItsRollbackUndoesTheRecord() {
    String id = UUID.randomUUID().toString();

    transactions.executeWithoutResult(
        status -> {
          assertThat(inbox.handleOnce(id, "stock", () -> effect(id))).isTrue();
          assertThat(inboxRows("stock", id)).as("recorded in this transaction").isOne();
          assertThat(
                  TestPostgres.get()
                      .queryLong(
                          "SELECT count(*) FROM " + table + " WHERE message_id = '" + id + "'"))
              .as("other connections see nothing yet")
              .isZero();
          status.setRollbackOnly();
        });

    assertThat(inboxRows("stock", id)).isZero();
    assertThat(effects(id)).isZero();
    assertThat(inbox.handleOnce(id, "stock", () -> effect(id))).isTrue();
    assertThat(effects(id)).isOne();
  }

  @Test
  void concurrentDuplicateWaitsForTheFirstAndSkipsWhenItCommits() throws Exception {
    String id = UUID.randomUUID().toString();
    CountDownLatch firstRecorded = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);

    CompletableFuture<Boolean> first =
        CompletableFuture.supplyAsync(
            () ->
                inbox.handleOnce(
                    id,
                    "stock",
                    () -> {
                      effect(id);
                      firstRecorded.countDown();
                      awaitLatch(release);
                    }),
            TestThreads.OWN_THREAD);
    assertThat(firstRecorded.await(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Boolean> second =
        CompletableFuture.supplyAsync(
            () -> inbox.handleOnce(id, "stock", () -> effect(id)), TestThreads.OWN_THREAD);
    awaitInsertBlocked();
    assertThat(second).as("the duplicate waits for the first transaction").isNotDone();

    release.countDown();

    assertThat(first.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(second.get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(effects(id)).isOne();
  }

  @Test
  void concurrentDuplicateRunsWhenTheFirstRollsBack() throws Exception {
    String id = UUID.randomUUID().toString();
    CountDownLatch firstRecorded = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);

    CompletableFuture<Boolean> first =
        CompletableFuture.supplyAsync(
            () ->
                inbox.handleOnce(
                    id,
                    "stock",
                    () -> {
                      effect(id);
                      firstRecorded.countDown();
                      awaitLatch(release);
                      throw new IllegalStateException("first attempt fails");
                    }),
            TestThreads.OWN_THREAD);
    assertThat(firstRecorded.await(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Boolean> second =
        CompletableFuture.supplyAsync(
            () -> inbox.handleOnce(id, "stock", () -> effect(id)), TestThreads.OWN_THREAD);
    awaitInsertBlocked();

    release.countDown();

    assertThatThrownBy(() -> first.get(30, TimeUnit.SECONDS))
        .hasRootCauseMessage("first attempt fails");
    assertThat(second.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(effects(id)).isOne();
    assertThat(inboxRows("stock", id)).isOne();
  }

  @Test
  void retentionDeletesOnlyRowsOlderThanTheRetentionInBatches() {
    InboxTable own = InboxTable.of(schema, "retention_inbox");
    PostgresInboxStore retentionStore = new PostgresInboxStore(dataSource, own);
    new InboxSchemaInitializer(dataSource, retentionStore, true).initialize();
    Instant now = Instant.parse("2026-11-30T12:00:00Z");
    for (int i = 0; i < 5; i++) {
      insert(own, "old-" + i, now.minus(Duration.ofDays(8)));
    }
    insert(own, "just-expired", now.minus(Duration.ofDays(7)).minusSeconds(1));
    insert(own, "recent", now.minus(Duration.ofDays(6)));
    insert(own, "new", now);
    InboxCleaner cleaner =
        new InboxCleaner(
            retentionStore,
            Duration.ofDays(7),
            Duration.ofMinutes(10),
            2,
            Clock.fixed(now, ZoneOffset.UTC));

    long deleted = cleaner.cleanUp();

    assertThat(deleted).isEqualTo(6);
    assertThat(
            jdbc.sql("SELECT message_id FROM " + own + " ORDER BY message_id")
                .query(String.class)
                .list())
        .containsExactly("new", "recent");
  }

  @Test
  void missingTableIsReportedWithWhatToDo() {
    PostgresInboxStore missing =
        new PostgresInboxStore(dataSource, InboxTable.of(schema, "no_such_inbox"));

    assertThatThrownBy(() -> new InboxSchemaInitializer(dataSource, missing, false).initialize())
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith("The inbox table " + schema + ".no_such_inbox is missing")
        .hasMessageContaining("outbox.inbox.migration.enabled=true");
  }

  /**
   * The check of the team's table (migrations off) while the database gives no connection names the
   * database, not a missing table: before, it said {@code The inbox table … is missing or
   * incomplete (Connection to 127.0.0.1:1 refused. …). Create it with the DDL …}.
   */
  @Test
  void checkingTheTableWhileTheDatabaseIsDownSaysSoInsteadOfCallingTheTableMissing() {
    org.postgresql.ds.PGSimpleDataSource down = new org.postgresql.ds.PGSimpleDataSource();
    down.setUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2");
    PostgresInboxStore unreachable = new PostgresInboxStore(down, table);

    assertThatThrownBy(unreachable::verifySchema)
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith("Could not check the inbox table " + table + ": ")
        .hasMessageNotContaining("missing");
  }

  @Test
  void documentedDdlCreatesATableTheStoreAccepts() {
    InboxTable own = InboxTable.of(schema + "_ddl", "own_inbox");
    try {
      TestPostgres.get().execute(InboxSchema.ddl(own));
      PostgresInboxStore ownStore = new PostgresInboxStore(dataSource, own);

      new InboxSchemaInitializer(dataSource, ownStore, false).initialize();
      transactions.executeWithoutResult(
          status -> {
            java.sql.Connection connection =
                org.springframework.jdbc.datasource.DataSourceUtils.getConnection(dataSource);
            assertThat(ownStore.record(connection, "c", "m")).isTrue();
            assertThat(ownStore.record(connection, "c", "m")).isFalse();
          });
    } finally {
      TestPostgres.get().dropSchema(own.schema());
    }
  }

  @Test
  void databaseDownAtStartupDoesNotFailStartupButTheFirstMessageChecksAgain() {
    org.postgresql.ds.PGSimpleDataSource down = new org.postgresql.ds.PGSimpleDataSource();
    down.setUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2");
    InboxSchemaInitializer initializer =
        new InboxSchemaInitializer(
            down, new PostgresInboxStore(down, InboxTable.of(null, "outbox_inbox")), true);

    initializer.afterPropertiesSet();

    assertThatThrownBy(initializer::initialize).hasStackTraceContaining("Connection");
  }

  /**
   * A transaction manager whose transactions do not hold a connection of the inbox's data source (a
   * Kafka one, say) would let the inbox write its record on a connection of its own: with
   * auto-commit off in the pool nobody commits it, and every redelivery runs the handler again. The
   * inbox refuses before the handler runs, naming the manager and the data source, with auto-commit
   * off and on alike.
   */
  @Test
  void aTransactionManagerThatDoesNotManageTheDataSourceIsRefusedBeforeTheHandlerRuns() {
    for (boolean autoCommit : new boolean[] {false, true}) {
      try (HikariDataSource pool = new HikariDataSource()) {
        pool.setJdbcUrl(TestPostgres.get().url());
        pool.setUsername(TestPostgres.get().user());
        pool.setPassword(TestPostgres.get().password());
        pool.setAutoCommit(autoCommit);
        pool.setMaximumPoolSize(2);
        PostgresInboxStore poolStore = new PostgresInboxStore(pool, table);
        SpringInbox otherResourcesInbox =
            new SpringInbox(
                pool,
                poolStore,
                new TransactionTemplate(new OtherResourceTransactionManager()),
                InboxListener.none(),
                () -> {});
        String id = UUID.randomUUID().toString();

        assertThatThrownBy(() -> otherResourcesInbox.handleOnce(id, "stock", () -> effect(id)))
            .as("auto-commit %s", autoCommit)
            .isInstanceOf(OutboxException.class)
            .hasMessage(
                "The transaction manager "
                    + OtherResourceTransactionManager.class.getName()
                    + " started a transaction that does not include the inbox's DataSource "
                    + pool
                    + ", so message "
                    + id
                    + " was not handled: its inbox record would be written outside that"
                    + " transaction. Use a DataSourceTransactionManager or JpaTransactionManager"
                    + " for that DataSource.");
        assertThat(effects(id)).isZero();
        assertThat(inboxRows("stock", id)).isZero();
      }
    }
  }

  /**
   * Begins and commits transactions of some other resource, as a Kafka transaction manager does.
   */
  static final class OtherResourceTransactionManager extends AbstractPlatformTransactionManager {

    @Override
    protected Object doGetTransaction() {
      return new Object();
    }

    @Override
    protected void doBegin(Object transaction, TransactionDefinition definition) {}

    @Override
    protected void doCommit(DefaultTransactionStatus status) {}

    @Override
    protected void doRollback(DefaultTransactionStatus status) {}
  }

  @Test
  void blankOrOverlongIdsAreRejectedNamingTheLimit() {
    assertThatThrownBy(() -> inbox.handleOnce(" ", "stock", () -> {}))
        .isInstanceOf(OutboxException.class)
        .hasMessage("The inbox needs a message id; got ' '");
    assertThatThrownBy(() -> inbox.handleOnce("x".repeat(256), "stock", () -> {}))
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith(
            "The message id is 256 characters long; the inbox accepts at most 255");
    assertThatThrownBy(() -> inbox.handleOnce("id", "", () -> {}))
        .isInstanceOf(OutboxException.class)
        .hasMessage("The inbox needs a consumer name; got ''");
  }

  @Test
  void invalidTableNameIsRejectedNamingTheProperty() {
    assertThatThrownBy(() -> InboxTable.of(null, "inbox; drop table x"))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid inbox table name 'inbox; drop table x': use a lower-case SQL identifier"
                + " matching [a-z_][a-z0-9_]{0,62} (set outbox.inbox.table.name)");
  }

  private static void insert(InboxTable into, String messageId, Instant handledAt) {
    jdbc.sql("INSERT INTO " + into + " (consumer, message_id, handled_at) VALUES ('c', ?, ?)")
        .param(messageId)
        .param(java.sql.Timestamp.from(handledAt))
        .update();
  }

  /** Waits until a session is blocked on a lock while inserting into this test's inbox table. */
  static void awaitInsertBlocked() {
    await()
        .atMost(TIMEOUT)
        .until(() -> TestPostgres.get().sessionsWaitingForALock("INSERT INTO " + table + " ") > 0);
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
