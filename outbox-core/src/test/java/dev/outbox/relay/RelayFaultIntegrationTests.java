package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Database faults under a running relay, on the real PostgreSQL: its sessions terminated ({@code
 * pg_terminate_backend}, as a failover or an administrator does), statements cancelled by {@code
 * statement_timeout} while the table is locked, a database that stops answering one instance (its
 * connections through a proxy that freezes them, as a network that drops packets would), also in
 * the middle of that instance's rebalance, another session's lock on the slot table, writers whose
 * clocks are off, and an insert the database refuses (as on a full disk). Bounds are generous: they
 * only keep a hung test from running forever.
 */
class RelayFaultIntegrationTests {

  private static final Duration BOUND = Duration.ofSeconds(30);
  private static final Duration LOGIN = Duration.ofSeconds(5);
  private static final Duration SHUTDOWN = Duration.ofSeconds(1);

  private final String schema = TestPostgres.get().createSchema("fault");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final String application = "relay-fault-" + UUID.randomUUID().toString().substring(0, 8);
  private final ScriptedTransport transport = new ScriptedTransport();
  private OutboxRelay relay;
  private OutboxRelay other;
  private TcpProxy proxy;
  private Connection lockHolder;

  @BeforeEach
  void createTable() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close(); // lets a relay stuck on a frozen connection go before it is closed
    }
    if (lockHolder != null) {
      lockHolder.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (other != null) {
      other.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  /** The relay's own data source: its sessions carry an application name of their own. */
  private PGSimpleDataSource relayDataSource(String options) {
    PGSimpleDataSource dataSource = (PGSimpleDataSource) TestPostgres.get().dataSource();
    dataSource.setApplicationName(application);
    if (options != null) {
      dataSource.setOptions(options);
    }
    return dataSource;
  }

  private OutboxRelay startRelay(PGSimpleDataSource dataSource) {
    return start(relay(dataSource).pollInterval(Duration.ofMillis(50)));
  }

  /**
   * An instance with a short lease (1 s): its database timeout is the shortest (5 s), its rebalance
   * timeout a third of a second.
   */
  private OutboxRelay startInstance(String name, DataSource dataSource) {
    return start(
        relay(dataSource)
            .name(name)
            .pollInterval(Duration.ofMillis(100))
            .leaseTimeout(Duration.ofMillis(1_000)));
  }

  private OutboxRelay.Builder relay(DataSource dataSource) {
    return OutboxRelay.builder()
        .repository(new PostgresOutboxRepository(dataSource, table))
        .transport(transport)
        .publishTimeout(Duration.ofSeconds(10))
        .maxErrorBackoff(Duration.ofMillis(200))
        .batchSize(50);
  }

  private static OutboxRelay start(OutboxRelay.Builder builder) {
    OutboxRelay started = builder.build();
    started.start();
    return started;
  }

  private List<UUID> write(Clock clock, int count) throws Exception {
    OutboxWriter writer =
        new OutboxWriter(
            new PostgresOutboxRepository(TestPostgres.get().dataSource(), table),
            Object::toString,
            HeaderCapture.none(),
            clock);
    List<OutboxMessage> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      messages.add(OutboxMessage.of("orders", "key-" + (i % 10), "{\"n\":" + i + "}"));
    }
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  private Set<UUID> deliveredIds() {
    Set<UUID> ids = new LinkedHashSet<>();
    transport.delivered().forEach(event -> ids.add(event.id()));
    return ids;
  }

  private long rows() {
    return TestPostgres.get().queryLong("SELECT count(*) FROM " + table);
  }

  /**
   * Ends the relay's sessions: those of its pool, and its lease anchor, which goes by its member's
   * name while the relay holds it and is found by the pid it registered.
   */
  private long terminateRelaySessions() {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                + " application_name = '"
                + application
                + "' OR pid IN (SELECT pid FROM "
                + table
                + "_relay)) t");
  }

  /** The pid the relay's lease anchor registered, 0 before it did. */
  private long anchorPid() {
    return TestPostgres.get().queryLong("SELECT coalesce(max(pid), 0) FROM " + table + "_relay");
  }

  @Test
  void relaySessionsTerminatedWhilePublishingLoseNothingAndTheRelayRecovers() throws Exception {
    List<UUID> ids = write(Clock.systemUTC(), 2_000);
    relay = startRelay(relayDataSource(null));

    // The lease session lives as long as the relay: every round terminates at least that one.
    await().atMost(BOUND).until(() -> anchorPid() != 0);
    long firstAnchor = anchorPid();
    long terminated = 0;
    for (int round = 0; round < 5 && rows() > 0; round++) {
      await().atMost(BOUND).until(() -> terminateRelaySessions() > 0 || rows() == 0);
      terminated++;
      int before = deliveredIds().size();
      await().atMost(BOUND).until(() -> deliveredIds().size() > before || rows() == 0);
    }
    assertThat(terminated).as("rounds that terminated relay sessions").isPositive();
    await("the relay registered again on a new anchor")
        .atMost(BOUND)
        .until(() -> anchorPid() != 0 && anchorPid() != firstAnchor);

    await().atMost(BOUND).until(() -> rows() == 0);
    assertThat(deliveredIds()).containsExactlyInAnyOrderElementsOf(ids);
    await().atMost(BOUND).until(relay::isHealthy);
  }

  @Test
  void statementsCancelledByStatementTimeoutFailTheRelayUntilTheLockIsGoneThenAllIsPublished()
      throws Exception {
    List<UUID> ids = write(Clock.systemUTC(), 20);
    try (Connection locker = TestPostgres.get().connect();
        Statement statement = locker.createStatement()) {
      locker.setAutoCommit(false);
      statement.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");

      relay = startRelay(relayDataSource("-c statement_timeout=300"));
      await().atMost(BOUND).until(() -> !relay.isHealthy());
      assertThat(relay.lastFailure()).contains("statement timeout");
      assertThat(transport.delivered()).isEmpty();

      locker.commit();
    }
    await().atMost(BOUND).until(() -> deliveredIds().size() == ids.size());
    assertThat(deliveredIds()).containsExactlyInAnyOrderElementsOf(ids);
    await().atMost(BOUND).until(relay::isHealthy);
  }

  /** The slots {@code name}'s instance holds, as the slot table says. */
  private long slotsOf(String name) {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + table + "_slot WHERE owner LIKE '" + name + "-%'");
  }

  /** The longest {@code instance} may take to stop with every thread stuck on the database. */
  private static Duration stopBound(OutboxRelay instance) {
    Duration database = instance.timing().databaseTimeout();
    // the batch in flight, then a worker's call and the release (a new connection and a statement)
    return SHUTDOWN.plus(database).plus(LOGIN).plus(database).plus(BOUND);
  }

  @Test
  void aDatabaseThatStopsAnsweringAnInstanceFailsItWithinItsTimeoutAndAnotherTakesItsKeys()
      throws Exception {
    proxy = TestPostgres.get().proxy();
    relay = startInstance("cut-off", TestPostgres.get().dataSourceThrough(proxy, LOGIN));
    List<UUID> before = write(Clock.systemUTC(), 100);
    await().atMost(BOUND).until(() -> deliveredIds().containsAll(before));
    other = startInstance("healthy", TestPostgres.get().dataSource());
    await().atMost(BOUND).until(() -> slotsOf("cut-off") > 0 && slotsOf("healthy") > 0);

    proxy.freeze(); // every connection of the instance, its lease anchor's included
    List<UUID> after = write(Clock.systemUTC(), 100);
    // Before, its threads waited for the answers until TCP gave up, reported nothing, and stop()
    // waited with them
    await("the cut-off instance reports its database failing")
        .atMost(relay.timing().databaseTimeout().plus(BOUND))
        .until(() -> !relay.isHealthy());
    await("its lease thread's failure among them")
        .atMost(relay.timing().databaseTimeout().plus(BOUND))
        .until(
            () ->
                String.valueOf(relay.lastFailure()).contains("leases: ")
                    && relay.lastFailure().contains("Could not renew the relay leases"));
    assertThat(relay.lastFailure()).contains("An I/O error occurred");
    await("every event, by the other instance once the lease has expired")
        .atMost(BOUND)
        .until(() -> deliveredIds().containsAll(after));
    assertThat(slotsOf("healthy")).isEqualTo(64);

    CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> relay.stop(SHUTDOWN));
    stopped.get(stopBound(relay).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(relay.isRunning()).isFalse();
    assertThat(proxy.frozen()).as("stopped while the database still did not answer").isTrue();
    await().atMost(BOUND).until(() -> rows() == 0);
  }

  @Test
  void anInstanceCutOffInTheMiddleOfItsRebalanceHoldsTheOthersUpOnlyForTheRebalanceTimeout()
      throws Exception {
    other = startInstance("healthy", TestPostgres.get().dataSource());
    await().atMost(BOUND).until(() -> slotsOf("healthy") == 64);
    proxy = TestPostgres.get().proxy();
    // The instance joins, the other gives half the slots back, the new one locks the slot table to
    // take them, and then its network stops: the lock stays with its session in the database
    proxy.freezeAfter("FOR UPDATE OF s");
    relay = startInstance("cut-off", TestPostgres.get().dataSourceThrough(proxy, LOGIN));
    await("the joining instance locked the slot table").atMost(BOUND).until(proxy::frozen);
    long cutOffSession =
        TestPostgres.get()
            .queryLong("SELECT pid FROM " + table + "_relay WHERE member LIKE 'cut-off-%'");
    await("PostgreSQL ends the cut-off instance's session, idle in its rebalance")
        .atMost(relay.timing().rebalanceTimeout().plus(BOUND))
        .until(
            () ->
                TestPostgres.get()
                        .queryLong(
                            "SELECT count(*) FROM pg_stat_activity WHERE pid = " + cutOffSession)
                    == 0);

    List<UUID> ids = write(Clock.systemUTC(), 100);
    // Before, the other instance's next rebalance waited for that lock until TCP ended the session:
    // its lease thread stood still, its leases ran out, and no event was published
    await("every event, by the other instance, the database still not answering the cut-off one")
        .atMost(BOUND)
        .until(() -> deliveredIds().containsAll(ids));
    assertThat(proxy.frozen()).isTrue();
    await().atMost(BOUND).until(() -> slotsOf("healthy") == 64);
    assertThat(other.isHealthy()).isTrue();
  }

  @Test
  void aRebalanceHeldUpByAnotherSessionsLockGivesUpAfterTheRebalanceTimeoutAndTheSlotsStayHeld()
      throws Exception {
    relay = startInstance("held-up", TestPostgres.get().dataSource());
    await().atMost(BOUND).until(() -> slotsOf("held-up") == 64);
    lockHolder =
        TestPostgres.get().openTransactionThatRan("SELECT * FROM " + table + "_slot FOR UPDATE");
    long holderPid;
    try (Statement statement = lockHolder.createStatement();
        ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      holderPid = rs.getLong(1);
    }
    // A second live member, whose session holds the slot table: the instance gives half its slots
    // back, for which its rebalance needs that lock
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table
                + "_relay (member, pid, backend_start, expires_at) SELECT 'ghost', pid,"
                + " backend_start, now() + interval '1 hour' FROM pg_stat_activity WHERE pid = "
                + holderPid);

    await("the rebalance gives up waiting and says why")
        .atMost(relay.timing().rebalanceTimeout().plus(BOUND))
        .until(() -> !relay.isHealthy());
    assertThat(relay.lastFailure()).contains("Could not rebalance").contains("lock timeout");
    // Before, the rebalance waited for the lock with no end: the lease thread stood still, the
    // leases ran out, and nothing was published
    List<UUID> ids = write(Clock.systemUTC(), 20);
    await("every event, while the lock is still held")
        .atMost(BOUND)
        .until(() -> deliveredIds().containsAll(ids));
    assertThat(relay.isHealthy()).as("the rebalance still fails").isFalse();

    lockHolder.close(); // the ghost's session ends: it is no longer alive
    await().atMost(BOUND).until(relay::isHealthy);
    assertThat(slotsOf("held-up")).isEqualTo(64);
  }

  @Test
  void writersWithClocksAnHourOffArePublishedAtOnceInWriteOrder() throws Exception {
    relay = startRelay(relayDataSource(null));
    List<UUID> ids = new ArrayList<>();
    ids.addAll(write(Clock.offset(Clock.systemUTC(), Duration.ofHours(1)), 5));
    ids.addAll(write(Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)), 5));

    // Not held back until the writer's "now": a new event is due at once, whatever its writer's
    // clock said; order follows the write sequence, not the clocks.
    await().atMost(BOUND).until(() -> deliveredIds().size() == ids.size());
    List<OutboxEvent> keyZero =
        transport.delivered().stream().filter(e -> "key-0".equals(e.key())).toList();
    assertThat(keyZero).extracting(OutboxEvent::sequence).isSorted();
  }

  @Test
  void anInsertTheDatabaseRefusesFailsTheBusinessTransactionAndWritesNothing() throws Exception {
    TestPostgres.get().execute("CREATE TABLE " + schema + ".purchase (id text PRIMARY KEY)");
    TestPostgres.get()
        .execute(
            "CREATE FUNCTION "
                + schema
                + ".no_space() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION"
                + " 'could not extend file: No space left on device' USING ERRCODE = '53100';"
                + " END $$");
    TestPostgres.get()
        .execute(
            "CREATE TRIGGER no_space BEFORE INSERT ON "
                + table
                + " FOR EACH ROW EXECUTE FUNCTION "
                + schema
                + ".no_space()");
    OutboxWriter writer =
        new OutboxWriter(
            new PostgresOutboxRepository(TestPostgres.get().dataSource(), table),
            Object::toString,
            HeaderCapture.none(),
            Clock.systemUTC());

    try (Connection connection = TestPostgres.get().connect();
        Statement statement = connection.createStatement()) {
      connection.setAutoCommit(false);
      statement.execute("INSERT INTO " + schema + ".purchase VALUES ('p-1')");
      assertThatThrownBy(
              () -> writer.write(connection, List.of(OutboxMessage.of("orders", "p-1", "{}"))))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("No space left on device");
      connection.rollback();
    }

    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + schema + ".purchase"))
        .as("the business row rolled back with the event")
        .isZero();
    assertThat(rows()).isZero();
  }
}
