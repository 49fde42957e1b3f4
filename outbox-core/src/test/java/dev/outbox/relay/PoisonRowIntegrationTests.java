package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxRepository.DeadEvent;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rows another writer stored that no event can be made of (written while the table's constraints
 * were missing, as on a table whose DDL a team owns): each is set DEAD with the reason and never
 * holds up the other events; the relay stays healthy.
 */
class PoisonRowIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("poison");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final ScriptedTransport transport = new ScriptedTransport();
  private PostgresOutboxRepository repository;
  private OutboxWriter writer;
  private OutboxRelay relay;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    // The table as an older or hand-written DDL has it: no constraints on headers or version.
    TestPostgres.get()
        .execute(
            "ALTER TABLE "
                + table
                + " DROP CONSTRAINT outbox_event_headers_string_object, DROP CONSTRAINT"
                + " outbox_event_event_version_positive");
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

  private UUID write(String key, String payload) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, List.of(OutboxMessage.of("orders", key, payload))).get(0);
    }
  }

  /** A row written with plain SQL, as another writer would. */
  private UUID insertRaw(String key, int version, String headers) {
    UUID id = UUID.randomUUID();
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table
                + " (id, destination, event_key, event_type, event_version, payload, headers)"
                + " VALUES ('"
                + id
                + "', 'orders', "
                + (key == null ? "NULL" : "'" + key + "'")
                + ", 'OrderPlaced', "
                + version
                + ", '{}', '"
                + headers
                + "'::jsonb)");
    return id;
  }

  @Test
  void rowsThatCannotBeDecodedAreSetDeadWithTheReasonAndOthersArePublished() throws Exception {
    List<UUID> normal = new ArrayList<>();
    normal.add(write("k1", "{\"n\":1}"));
    UUID numberHeader = insertRaw("k1", 1, "{\"retries\": 3}");
    normal.add(write("k1", "{\"n\":2}"));
    UUID arrayHeaders = insertRaw("k2", 1, "[\"a\", \"b\"]");
    UUID nullHeaders = insertRaw(null, 1, "null");
    UUID nestedHeader = insertRaw("k3", 1, "{\"a\": {\"b\": \"c\"}}");
    UUID versionZero = insertRaw("k2", 0, "{}");
    normal.add(write("k2", "{\"n\":3}"));
    normal.add(write(null, "{\"n\":4}"));
    normal.add(write("k3", "{\"n\":5}"));

    relay =
        OutboxRelay.builder()
            .repository(repository)
            .transport(transport)
            .pollInterval(Duration.ofMillis(50))
            .build();
    relay.start();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> transport.delivered().size() == normal.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> repository.findDead(10).size() == 5);

    assertThat(transport.delivered())
        .extracting(OutboxEvent::id)
        .containsExactlyInAnyOrderElementsOf(normal);
    assertThat(
            transport.delivered().stream()
                .filter(e -> "k1".equals(e.key()))
                .map(OutboxEvent::payload))
        .as("k1 continues past its dead row, in write order")
        .containsExactly("{\"n\":1}", "{\"n\":2}");

    Map<UUID, String> errors = new HashMap<>();
    for (DeadEvent dead : repository.findDead(10)) {
      errors.put(dead.event().id(), dead.lastError());
      assertThat(dead.event().attempts()).isEqualTo(1);
    }
    assertThat(errors.get(numberHeader))
        .startsWith("Cannot decode the stored event: headers is not a JSON object of strings:")
        .contains("expected a string value for header 'retries'");
    assertThat(errors.get(arrayHeaders))
        .contains("headers is not a JSON object of strings: expected a JSON object of strings");
    assertThat(errors.get(nullHeaders)).contains("headers is not a JSON object of strings");
    assertThat(errors.get(nestedHeader)).contains("expected a string value for header 'a'");
    assertThat(errors.get(versionZero))
        .isEqualTo("Cannot decode the stored event: event_version must be at least 1, was 0");
    assertThat(transport.deadLetters()).as("no message can be made of them").isEmpty();

    assertThat(relay.isHealthy()).isTrue();
    assertThat(relay.lastFailure()).isNull();
    assertThat(TestPostgres.get().queryLong("SELECT count(*) FROM " + table)).isEqualTo(5);
  }

  @Test
  void aPoisonRowBlocksOnlyItsOwnKeyWhenDeadEventsBlockKeys() throws Exception {
    UUID poison = insertRaw("blocked", 1, "{\"n\": 1}");
    UUID behind = write("blocked", "{}");
    UUID other = write("free", "{}");
    PostgresOutboxRepository blocking =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(),
            table,
            dev.outbox.store.StoreOptions.defaults().withDeadEventBlocksKey(true));

    relay =
        OutboxRelay.builder()
            .repository(blocking)
            .transport(transport)
            .pollInterval(Duration.ofMillis(50))
            .build();
    relay.start();

    await().atMost(Duration.ofSeconds(20)).until(() -> transport.delivered().size() == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> repository.findDead(10).size() == 1);
    assertThat(transport.delivered()).extracting(OutboxEvent::id).containsExactly(other);
    assertThat(repository.findDead(10).get(0).event().id()).isEqualTo(poison);
    assertThat(relay.isHealthy()).isTrue();

    // The operator discards the poison row; the key continues.
    assertThat(repository.discard(poison)).isTrue();
    relay.wakeUp();
    await().atMost(Duration.ofSeconds(20)).until(() -> transport.delivered().size() == 2);
    assertThat(transport.delivered().get(1).id()).isEqualTo(behind);
  }
}
