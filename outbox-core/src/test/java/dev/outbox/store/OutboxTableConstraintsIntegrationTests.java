package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.EventIds;
import dev.outbox.EventLimits;
import dev.outbox.OutboxEvent;
import dev.outbox.test.TestPostgres;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The table's CHECK constraints (migration V3) hold every writer to what the relay accepts, and the
 * migration runs on a table that already holds events.
 */
class OutboxTableConstraintsIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("constraints");
  private final TableName table = TableName.of(schema, "outbox_event");

  @AfterEach
  void tearDown() {
    TestPostgres.get().dropSchema(schema);
  }

  private static String script(String name, TableName table) throws Exception {
    String path = "dev/outbox/db/migration/postgresql/" + name;
    try (InputStream in = OutboxSchema.class.getClassLoader().getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .replace("${" + OutboxSchema.TABLE_PLACEHOLDER + "}", table.qualified())
          .replace("${" + OutboxSchema.TABLE_NAME_PLACEHOLDER + "}", table.table());
    }
  }

  private static void run(String sql) throws SQLException {
    try (Connection connection = TestPostgres.get().connect();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private void insert(String key, int version, String headers) throws SQLException {
    run(
        "INSERT INTO "
            + table
            + " (id, destination, event_key, event_type, event_version, payload, headers) VALUES"
            + " (gen_random_uuid(), 'orders', "
            + (key == null ? "NULL" : "'" + key + "'")
            + ", 'OrderPlaced', "
            + version
            + ", '{}', '"
            + headers
            + "'::jsonb)");
  }

  @Test
  void plainSqlRowsTheRelayCannotHandleAreRejected() throws Exception {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);

    insert("k".repeat(EventLimits.MAX_KEY_BYTES), 1, "{\"traceparent\": \"00-ab-cd-01\"}");
    insert(null, 7, "{}");

    assertRejected(
        () -> insert("k".repeat(EventLimits.MAX_KEY_BYTES + 1), 1, "{}"),
        "outbox_event_event_key_length");
    assertRejected(() -> insert("k", 0, "{}"), "outbox_event_event_version_positive");
    assertRejected(() -> insert("k", -1, "{}"), "outbox_event_event_version_positive");
    for (String headers : List.of("[]", "\"x\"", "null", "{\"a\": 1}", "{\"a\": {\"b\": \"c\"}}")) {
      assertRejected(() -> insert("k", 1, headers), "outbox_event_headers_string_object");
    }
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(2);
  }

  @Test
  void aKeyOfTheLongestAllowedLengthCanBeRetriedAndSetDead() throws Exception {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    var repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    // Three-byte characters: 1,023 bytes, just under the limit, in the index of dead events.
    String key = "€".repeat(EventLimits.MAX_KEY_BYTES / 3);
    OutboxEvent event =
        new OutboxEvent(
            EventIds.next(),
            0,
            "orders",
            key,
            null,
            "OrderPlaced",
            1,
            "{}",
            Map.of(),
            Instant.now(),
            0);
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, List.of(event));
    }
    var leases = repository.rebalanceLeases("m", Duration.ofSeconds(30), List.of());
    var retried =
        repository.complete(
            "m",
            leases.tokens().values(),
            List.of(),
            List.of(new RelayStore.Retry(event.id(), 1, Duration.ZERO, "busy")),
            List.of());
    var dead =
        repository.complete(
            "m",
            leases.tokens().values(),
            List.of(),
            List.of(),
            List.of(new RelayStore.Dead(event.id(), 2, "gone")));
    assertThat(retried.retried()).isEqualTo(1);
    assertThat(dead.dead()).isEqualTo(1);
    assertThat(repository.findDead(10))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.event().key()).isEqualTo(key);
              assertThat(d.lastError()).isEqualTo("gone");
            });
  }

  @Test
  void theMigrationKeepsTheEventsOfATableThatHoldsSome() throws Exception {
    run(script("V1__create_outbox_event.sql", table));
    run(script("V2__relay_slots.sql", table));
    run(
        "INSERT INTO "
            + table
            + " (id, destination, event_key, event_type, payload, headers) SELECT"
            + " gen_random_uuid(), 'orders', 'key-' || i, 'OrderPlaced', '{}',"
            + " jsonb_build_object('traceparent', '00-' || i || '-01') FROM generate_series(0, 499)"
            + " AS i");
    run("UPDATE " + table + " SET status = 'DEAD', last_error = 'x' WHERE event_key = 'key-7'");

    run(script("V3__event_constraints.sql", table));

    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(500);
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM pg_constraint WHERE conrelid = '"
                        + table
                        + "'::regclass AND contype = 'c' AND convalidated"))
        .as("status check and the three new constraints, all validated")
        .isEqualTo(4);
  }

  @Test
  void theMigrationStopsAndNamesRowsThatBreakTheNewRulesWithoutChangingThem() throws Exception {
    run(script("V1__create_outbox_event.sql", table));
    run(script("V2__relay_slots.sql", table));
    insert("ok", 1, "{}");
    insert("k".repeat(2000), 1, "{}");
    insert("v", 0, "{}");

    assertThatThrownBy(() -> run(script("V3__event_constraints.sql", table)))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining(
            "The outbox table " + table + " holds 2 row(s) that break the constraints")
        .hasMessageContaining("Publish or discard them first; find them with: SELECT id, status");
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(3);

    run("DELETE FROM " + table + " WHERE event_key <> 'ok'");
    run(script("V3__event_constraints.sql", table));
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(1);
  }

  private static void assertRejected(ThrowingRunnable insert, String constraint) {
    assertThatThrownBy(insert::run)
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("violates check constraint \"" + constraint + "\"")
        .satisfies(ex -> assertThat(((SQLException) ex).getSQLState()).isEqualTo("23514"));
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }
}
