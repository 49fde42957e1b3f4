package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import dev.outbox.test.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bulk operations on dead events and their retention, on a real table. */
class PostgresDeadEventsIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("dead");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository repository;

  /** The database's clock when the fixture was written; ages are relative to it. */
  private Instant now;

  private UUID ordersA; // orders, OrderPlaced, key a, "Broker said: TIMEOUT", dead 3 days ago
  private UUID ordersB; // orders, OrderCancelled, key b, "record too large", dead 1 hour ago
  private UUID payments; // payments, PaymentTaken, key a, "100% broken_thing", dead 10 days ago
  private UUID
      unkeyed; // payments, OrderPlaced, no key, no error, dead (never attempted) 2 days ago
  private UUID pending; // orders, OrderPlaced, key a, pending, "timeout", written 20 days ago

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    now =
        Instant.ofEpochMilli(
            TestPostgres.get().queryLong("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
    ordersA =
        insert("DEAD", "orders", "OrderPlaced", "a", "Broker said: TIMEOUT", "4 days", "3 days");
    ordersB =
        insert("DEAD", "orders", "OrderCancelled", "b", "record too large", "2 hours", "1 hour");
    payments =
        insert("DEAD", "payments", "PaymentTaken", "a", "100% broken_thing", "11 days", "10 days");
    unkeyed = insert("DEAD", "payments", "OrderPlaced", null, null, "2 days", null);
    pending = insert("PENDING", "orders", "OrderPlaced", "a", "timeout", "20 days", "20 days");
  }

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private UUID insert(
      String status,
      String destination,
      String type,
      String key,
      String error,
      String createdAgo,
      String deadAgo) {
    UUID id = UUID.randomUUID();
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table.qualified()
                + " (id, destination, event_key, event_type, payload, status, attempts, last_error,"
                + " created_at, last_attempt_at) VALUES ('"
                + id
                + "', '"
                + destination
                + "', "
                + (key == null ? "NULL" : "'" + key + "'")
                + ", '"
                + type
                + "', '{}', '"
                + status
                + "', 3, "
                + (error == null ? "NULL" : "'" + error + "'")
                + ", now() - interval '"
                + createdAgo
                + "', "
                + (deadAgo == null ? "NULL" : "now() - interval '" + deadAgo + "'")
                + ")");
    return id;
  }

  private Set<UUID> ids(String status) {
    Set<UUID> ids = new HashSet<>();
    try (Connection connection = TestPostgres.get().connect();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT id FROM " + table.qualified() + " WHERE status = ?")) {
      statement.setString(1, status);
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
        }
      }
    } catch (Exception ex) {
      throw new IllegalStateException(ex);
    }
    return ids;
  }

  private Set<UUID> dead() {
    return ids("DEAD");
  }

  private Set<UUID> allDead() {
    return Set.of(ordersA, ordersB, payments, unkeyed);
  }

  private static Set<UUID> without(Set<UUID> all, UUID... removed) {
    Set<UUID> rest = new HashSet<>(all);
    rest.removeAll(List.of(removed));
    return rest;
  }

  private void assertReplayed(DeadEventFilter filter, UUID... expected) {
    long replayed = repository.replayDead(filter);
    assertThat(replayed).as("replayed by %s", filter).isEqualTo(expected.length);
    assertThat(dead()).as("still dead after %s", filter).isEqualTo(without(allDead(), expected));
    Set<UUID> nowPending = new HashSet<>(List.of(expected));
    nowPending.add(pending);
    assertThat(ids("PENDING")).isEqualTo(nowPending);
    for (UUID id : expected) {
      assertThat(
              TestPostgres.get()
                  .queryLong(
                      "SELECT attempts FROM " + table.qualified() + " WHERE id = '" + id + "'"))
          .isZero();
    }
  }

  @Test
  void replaysByDestinationOnly() {
    assertReplayed(DeadEventFilter.all().withDestination("orders"), ordersA, ordersB);
  }

  @Test
  void replaysByEventTypeOnly() {
    assertReplayed(DeadEventFilter.all().withType("OrderPlaced"), ordersA, unkeyed);
  }

  @Test
  void replaysByKeyOnly() {
    assertReplayed(DeadEventFilter.all().withKey("a"), ordersA, payments);
  }

  @Test
  void replaysByErrorSubstringIgnoringCase() {
    assertReplayed(DeadEventFilter.all().withErrorContains("timeout"), ordersA);
  }

  @Test
  void errorTextIsAPlainSubstringNotAPattern() {
    assertReplayed(DeadEventFilter.all().withErrorContains("0% broken_"), payments);
    assertThat(repository.replayDead(DeadEventFilter.all().withErrorContains("%"))).isZero();
    assertThat(repository.replayDead(DeadEventFilter.all().withErrorContains("'; DROP TABLE x;--")))
        .isZero();
  }

  @Test
  void replaysByDeadTimeRange() {
    assertReplayed(
        DeadEventFilter.all()
            .withDeadBetween(now.minus(Duration.ofDays(5)), now.minus(Duration.ofHours(2))),
        ordersA,
        unkeyed);
  }

  @Test
  void replaysByCreationTimeRange() {
    assertReplayed(
        DeadEventFilter.all()
            .withCreatedBetween(now.minus(Duration.ofDays(5)), now.minus(Duration.ofDays(1))),
        ordersA,
        unkeyed);
  }

  @Test
  void combinesCriteria() {
    assertReplayed(
        DeadEventFilter.all()
            .withDestination("orders")
            .withCreatedBetween(null, now.minus(Duration.ofDays(1))),
        ordersA);
  }

  @Test
  void discardsOnlyMatchingDeadEvents() {
    assertThat(repository.discardDead(DeadEventFilter.all().withDestination("payments")))
        .isEqualTo(2);
    assertThat(dead()).containsExactlyInAnyOrder(ordersA, ordersB);
    assertThat(ids("PENDING")).containsExactly(pending);

    assertThat(repository.discardDead(DeadEventFilter.all().withErrorContains("TIMEOUT")))
        .isEqualTo(1);
    assertThat(dead()).containsExactly(ordersB);
    assertThat(repository.discardDead(DeadEventFilter.all().withErrorContains("TIMEOUT"))).isZero();
    assertThat(ids("PENDING")).containsExactly(pending);
  }

  @Test
  void findsDeadEventsByFilter() {
    List<OutboxRepository.DeadEvent> found =
        repository.findDead(DeadEventFilter.all().withKey("a"), 10);
    assertThat(found).extracting(d -> d.event().id()).containsExactly(ordersA, payments);
    assertThat(found.get(0).lastError()).isEqualTo("Broker said: TIMEOUT");
    assertThat(repository.findDead(DeadEventFilter.all(), 2)).hasSize(2);
  }

  /**
   * Dead rows no event can be made of (written while the table lacked its constraints) are listed
   * with a filter as without one: with empty headers and version 1, so the operator can still find,
   * replay or discard them, and the other rows are listed too.
   */
  @Test
  void findsDeadEventsThatCannotBeDecodedByFilterAsWithout() {
    TestPostgres.get()
        .execute(
            "ALTER TABLE "
                + table.qualified()
                + " DROP CONSTRAINT outbox_event_headers_string_object, DROP CONSTRAINT"
                + " outbox_event_event_version_positive");
    TestPostgres.get()
        .execute(
            "UPDATE "
                + table.qualified()
                + " SET headers = '{\"retries\": 3}' WHERE id = '"
                + ordersA
                + "'; UPDATE "
                + table.qualified()
                + " SET event_version = 0 WHERE id = '"
                + ordersB
                + "'");

    List<OutboxRepository.DeadEvent> filtered =
        repository.findDead(DeadEventFilter.all().withDestination("orders"), 10);
    List<OutboxRepository.DeadEvent> unfiltered = repository.findDead(10);

    assertThat(filtered).extracting(d -> d.event().id()).containsExactly(ordersA, ordersB);
    assertThat(filtered)
        .allSatisfy(
            d -> {
              assertThat(d.event().headers()).isEmpty();
              assertThat(d.event().version()).isEqualTo(1);
            });
    assertThat(unfiltered.subList(0, 2)).isEqualTo(filtered);
    assertThat(repository.findDead(DeadEventFilter.all(), 10)).isEqualTo(unfiltered);
  }

  @Test
  void bulkOperationsWorkInChunksOverLargeSets() {
    // 2,500 matching and 2,500 other dead events, interleaved, dead at the same instant (the cursor
    // must then continue by sequence).
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table.qualified()
                + " (id, destination, event_key, event_type, payload, status, last_error,"
                + " created_at, last_attempt_at) SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN"
                + " 'bulk' ELSE 'other' END, 'k' || i, 'T', '{}', 'DEAD', 'e', now(), now() - interval"
                + " '1 minute' FROM generate_series(1, 5000) AS i");
    AtomicInteger statements = new AtomicInteger();
    PostgresOutboxRepository counted =
        new PostgresOutboxRepository(countingStatements(statements), table);
    assertThat(counted.replayDead(DeadEventFilter.all().withDestination("bulk"))).isEqualTo(2500);
    // One statement reads the database clock, then chunks of 1,000: 1,000 + 1,000 + 500.
    assertThat(statements).hasValue(4);
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + table.qualified()
                        + " WHERE destination = 'bulk' AND status = 'PENDING'"))
        .isEqualTo(2500);
    assertThat(repository.discardDead(DeadEventFilter.all().withDestination("other")))
        .isEqualTo(2500);
    assertThat(dead()).isEqualTo(allDead());
  }

  /** The test database, counting the statements prepared on its connections. */
  private static DataSource countingStatements(AtomicInteger count) {
    DataSource target = TestPostgres.get().dataSource();
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(target, method, args);
              if (!(result instanceof Connection connection)) {
                return result;
              }
              return Proxy.newProxyInstance(
                  Connection.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (p, m, a) -> {
                    if (m.getName().startsWith("prepare")) {
                      count.incrementAndGet();
                    }
                    return invoke(connection, m, a);
                  });
            });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException ex) {
      throw ex.getCause();
    }
  }

  @Test
  void purgeDeletesOnlyDeadEventsOlderThanTheRetentionInBatches() {
    for (int i = 0; i < 5; i++) {
      insert("DEAD", "orders", "Old", "o" + i, "x", "30 days", "15 days");
    }
    OptionalLong purged = repository.purgeDead(Duration.ofDays(7), 2);
    assertThat(purged).hasValue(6); // five old ones and payments (dead 10 days ago)
    assertThat(dead()).containsExactlyInAnyOrder(ordersA, ordersB, unkeyed);
    assertThat(ids("PENDING")).containsExactly(pending); // old, but pending
    assertThat(repository.purgeDead(Duration.ofDays(7), 2)).hasValue(0);
  }

  @Test
  void purgeRunsOnOneInstanceAtATime() throws Exception {
    try (Connection other = TestPostgres.get().connect();
        Statement statement = other.createStatement()) {
      statement.execute(
          "SELECT pg_advisory_lock(" + PostgresDeadEvents.retentionLockClass(table) + ", 0)");
      assertThat(repository.purgeDead(Duration.ofDays(7), 100)).isEmpty();
      assertThat(dead()).contains(payments);
      statement.execute(
          "SELECT pg_advisory_unlock(" + PostgresDeadEvents.retentionLockClass(table) + ", 0)");
    }
    assertThat(repository.purgeDead(Duration.ofDays(7), 100)).hasValue(1);
  }

  @Test
  void boundedStatsStopCountingAtTheLimit() {
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table.qualified()
                + " (id, destination, event_type, payload, created_at) SELECT gen_random_uuid(),"
                + " 'orders', 'T', '{}', now() - interval '1 minute' FROM generate_series(1, 30)");
    OutboxRepository.Stats stats = repository.statsUpTo(10);
    assertThat(stats.pending()).isEqualTo(10);
    assertThat(stats.dead()).isEqualTo(4);
    assertThat(stats.oldestPending()).isPresent();
    assertThat(stats.oldestPending().get())
        .isCloseTo(now.minus(Duration.ofDays(20)), within(Duration.ofMinutes(1)));
    assertThat(repository.statsUpTo(1000).pending()).isEqualTo(31);
  }

  @Test
  void rejectsBadFilters() {
    assertThatThrownBy(() -> DeadEventFilter.all().withDestination(" "))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Dead event filter 'destination' must not be blank; leave it unset to match any value");
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    assertThatThrownBy(() -> DeadEventFilter.all().withDeadBetween(t, t))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Dead event filter 'deadFrom' (2026-01-01T00:00:00Z) must be before 'deadTo'"
                + " (2026-01-01T00:00:00Z)");
    assertThatThrownBy(() -> repository.purgeDead(Duration.ZERO, 10))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Dead event retention must be positive, was PT0S");
  }

  private static org.assertj.core.data.TemporalUnitOffset within(Duration duration) {
    return new org.assertj.core.data.TemporalUnitWithinOffset(
        duration.toSeconds(), ChronoUnit.SECONDS);
  }
}
