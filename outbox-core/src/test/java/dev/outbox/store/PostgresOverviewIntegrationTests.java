package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.outbox.OutboxException;
import dev.outbox.store.OutboxRepository.Backlog;
import dev.outbox.store.OutboxRepository.DeadGroup;
import dev.outbox.store.OutboxRepository.DeadGroups;
import dev.outbox.store.OutboxRepository.DestinationBacklog;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator's overview (backlog per destination, dead events in groups) on a real table. */
class PostgresOverviewIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("overview");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository repository;

  /** The time the ages of the fixture count from. */
  private Instant now;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  }

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  /**
   * Inserts {@code count} events; the i-th (from 1) is written {@code minutesAgo + count - i}
   * minutes ago (so in write order, oldest first) and, when dead, dead-lettered at the same time.
   */
  private void insert(
      int count,
      String status,
      String destination,
      String type,
      String key,
      String error,
      int minutesAgo) {
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table.qualified()
                + " (id, destination, event_key, event_type, payload, status, attempts, last_error,"
                + " created_at, last_attempt_at) SELECT gen_random_uuid(), '"
                + destination
                + "', "
                + (key == null ? "'k-' || i" : "'" + key + "'")
                + ", '"
                + type
                + "', '{}', '"
                + status
                + "', 1, "
                + (error == null ? "NULL" : "'" + error + "'")
                + ", t, t FROM generate_series(1, "
                + count
                + ") AS i, LATERAL (SELECT '"
                + now
                + "'::timestamptz - make_interval(mins => "
                + minutesAgo
                + " + "
                + count
                + " - i) AS t) AS at ORDER BY i");
  }

  private Instant minutesAgo(int minutes) {
    return now.minus(Duration.ofMinutes(minutes));
  }

  @Test
  void backlogCountsPendingEventsPerDestinationWithTheOldestOfEach() {
    insert(3, "PENDING", "orders", "OrderPlaced", null, null, 60); // 62, 61, 60 minutes ago
    insert(1, "PENDING", "payments", "PaymentTaken", null, null, 5);
    insert(4, "DEAD", "orders", "OrderPlaced", null, "boom", 500); // dead: not backlog

    Backlog backlog = repository.backlog(1000);

    assertThat(backlog.complete()).isTrue();
    assertThat(backlog.destinations())
        .containsExactly(
            new DestinationBacklog("orders", 3, minutesAgo(62)),
            new DestinationBacklog("payments", 1, minutesAgo(5)));
  }

  @Test
  void backlogReadsAtMostTheLimitPerSlotAndSaysSo() {
    // One key: every event is in the same slot. The oldest are read first.
    insert(10, "PENDING", "orders", "OrderPlaced", "same-key", null, 0); // 9..0 minutes ago
    insert(1, "PENDING", "payments", "PaymentTaken", null, null, 30);

    Backlog backlog = repository.backlog(4);

    assertThat(backlog.complete()).isFalse();
    assertThat(backlog.destinations())
        .containsExactly(
            new DestinationBacklog("orders", 4, minutesAgo(9)),
            new DestinationBacklog("payments", 1, minutesAgo(30)));
    assertThat(repository.backlog(10).complete()).isTrue();
  }

  @Test
  void backlogOfAnEmptyTableIsEmptyAndComplete() {
    assertThat(repository.backlog(10)).isEqualTo(new Backlog(List.of(), true));
  }

  @Test
  void deadGroupsGroupByDestinationTypeAndTheStartOfTheError() {
    insert(3, "DEAD", "orders", "OrderPlaced", null, "Timeout after 5000 ms", 10); // 12..10
    insert(1, "DEAD", "orders", "OrderPlaced", null, "Record too large", 20);
    insert(1, "DEAD", "orders", "OrderCancelled", null, "Timeout after 5000 ms", 30);
    String prefix = "x".repeat(OutboxRepository.DEAD_GROUP_ERROR_LENGTH);
    insert(1, "DEAD", "payments", "PaymentTaken", null, prefix + " tail one", 40);
    insert(1, "DEAD", "payments", "PaymentTaken", null, prefix + " tail two", 41);
    insert(1, "DEAD", "payments", "PaymentTaken", null, null, 42);
    insert(5, "PENDING", "orders", "OrderPlaced", null, "Timeout after 5000 ms", 0);

    DeadGroups groups = repository.deadGroups(1000, 100);

    assertThat(groups.complete()).isTrue();
    assertThat(groups.groups())
        .containsExactly(
            new DeadGroup(
                "orders",
                "OrderPlaced",
                "Timeout after 5000 ms",
                3,
                minutesAgo(12),
                minutesAgo(10)),
            new DeadGroup("payments", "PaymentTaken", prefix, 2, minutesAgo(41), minutesAgo(40)),
            new DeadGroup(
                "orders",
                "OrderCancelled",
                "Timeout after 5000 ms",
                1,
                minutesAgo(30),
                minutesAgo(30)),
            new DeadGroup(
                "orders", "OrderPlaced", "Record too large", 1, minutesAgo(20), minutesAgo(20)),
            new DeadGroup("payments", "PaymentTaken", "", 1, minutesAgo(42), minutesAgo(42)));
  }

  @Test
  void deadGroupsReadTheMostRecentDeadEventsUpToTheLimitsAndSaySo() {
    insert(3, "DEAD", "orders", "OrderPlaced", null, "old error", 100);
    insert(2, "DEAD", "payments", "PaymentTaken", null, "new error", 1);

    DeadGroups scanned = repository.deadGroups(2, 100);
    assertThat(scanned.complete()).isFalse();
    assertThat(scanned.groups())
        .extracting(DeadGroup::destination, DeadGroup::count)
        .containsExactly(tuple("payments", 2L));

    DeadGroups largest = repository.deadGroups(1000, 1);
    assertThat(largest.complete()).isFalse();
    assertThat(largest.groups())
        .extracting(DeadGroup::destination, DeadGroup::count)
        .containsExactly(tuple("orders", 3L));

    assertThat(repository.deadGroups(6, 2).complete()).isTrue();
  }

  @Test
  void refusesLimitsBelowOne() {
    assertThatThrownBy(() -> repository.backlog(0))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Backlog rows per slot must be at least 1, was 0");
    assertThatThrownBy(() -> repository.deadGroups(0, 5))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Dead group limits must be at least 1, were scanLimit=0, groupLimit=5");
  }
}
