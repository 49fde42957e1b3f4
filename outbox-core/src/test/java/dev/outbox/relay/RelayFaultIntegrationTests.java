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
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Database faults under a running relay, on the real PostgreSQL: its sessions terminated ({@code
 * pg_terminate_backend}, as a failover or an administrator does), statements cancelled by {@code
 * statement_timeout} while the table is locked, writers whose clocks are off, and an insert the
 * database refuses (as on a full disk). Bounds are generous: they only keep a hung test from
 * running forever.
 */
class RelayFaultIntegrationTests {

  private static final Duration BOUND = Duration.ofSeconds(30);

  private final String schema = TestPostgres.get().createSchema("fault");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final String application = "relay-fault-" + UUID.randomUUID().toString().substring(0, 8);
  private final ScriptedTransport transport = new ScriptedTransport();
  private OutboxRelay relay;

  @BeforeEach
  void createTable() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
  }

  @AfterEach
  void tearDown() {
    if (relay != null) {
      relay.close();
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
    OutboxRelay started =
        OutboxRelay.builder()
            .repository(new PostgresOutboxRepository(dataSource, table))
            .transport(transport)
            .pollInterval(Duration.ofMillis(50))
            .publishTimeout(Duration.ofSeconds(10))
            .maxErrorBackoff(Duration.ofMillis(200))
            .batchSize(50)
            .build();
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

  private long terminateRelaySessions() {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
                + " application_name = '"
                + application
                + "') t");
  }

  @Test
  void relaySessionsTerminatedWhilePublishingLoseNothingAndTheRelayRecovers() throws Exception {
    List<UUID> ids = write(Clock.systemUTC(), 2_000);
    relay = startRelay(relayDataSource(null));

    // The lease session lives as long as the relay: every round terminates at least that one.
    long terminated = 0;
    for (int round = 0; round < 5 && rows() > 0; round++) {
      await().atMost(BOUND).until(() -> terminateRelaySessions() > 0 || rows() == 0);
      terminated++;
      int before = deliveredIds().size();
      await().atMost(BOUND).until(() -> deliveredIds().size() > before || rows() == 0);
    }
    assertThat(terminated).as("rounds that terminated relay sessions").isPositive();

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
