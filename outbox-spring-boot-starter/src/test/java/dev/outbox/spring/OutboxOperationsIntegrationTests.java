package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.test.TestPostgres;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Health indicator and the Actuator endpoint on a real table. */
class OutboxOperationsIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("ops");

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withBean(DataSource.class, () -> TestPostgres.get().dataSource())
          .withPropertyValues("outbox.table.schema=" + schema, "outbox.health.max-pending-age=10m");

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private UUID insert(String status, String age) {
    UUID id = UUID.randomUUID();
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + schema
                + ".outbox_event (id, destination, event_key, event_type, payload, status,"
                + " attempts, last_error, created_at) VALUES ('"
                + id
                + "', 'orders', 'k', 'OrderPlaced', '{}', '"
                + status
                + "', 3, 'boom', now() - interval '"
                + age
                + "')");
    return id;
  }

  @Test
  void healthIsUpWithCountsAndDownWhenTheOldestPendingEventIsTooOld() {
    runner.run(
        context -> {
          OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
          insert("PENDING", "1 minute");
          Health up = health.health(true);
          assertThat(up.getStatus()).isEqualTo(Status.UP);
          assertThat(up.getDetails()).containsEntry("pending", 1L).containsEntry("dead", 0L);

          TestPostgres.get().execute("DELETE FROM " + schema + ".outbox_event");
          insert("PENDING", "11 minutes");
          Health down = health.health(true);
          assertThat(down.getStatus()).isEqualTo(Status.DOWN);
          assertThat(down.getDetails().get("reason").toString()).contains("older than PT10M");
        });
  }

  @Test
  @SuppressWarnings("unchecked")
  void endpointListsReplaysAndDiscardsDeadEvents() {
    runner.run(
        context -> {
          OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
          UUID replayed = insert("DEAD", "1 minute");
          UUID discarded = insert("DEAD", "1 minute");

          Map<String, Object> summary = endpoint.summary();
          assertThat(summary).containsEntry("dead", 2L).containsEntry("pending", 0L);
          List<Map<String, Object>> dead = (List<Map<String, Object>>) summary.get("deadEvents");
          assertThat(dead)
              .extracting(d -> d.get("id"))
              .containsExactlyInAnyOrder(replayed.toString(), discarded.toString());
          assertThat(dead.get(0)).containsEntry("lastError", "boom").containsEntry("attempts", 3);

          assertThat(endpoint.replay(replayed.toString())).containsEntry("replayed", true);
          assertThat(endpoint.discard(discarded.toString())).containsEntry("discarded", true);
          assertThat(endpoint.discard(discarded.toString())).containsEntry("discarded", false);

          assertThat(endpoint.summary()).containsEntry("dead", 0L).containsEntry("pending", 1L);
          assertThat(
                  TestPostgres.get()
                      .queryLong(
                          "SELECT attempts FROM "
                              + schema
                              + ".outbox_event WHERE id = '"
                              + replayed
                              + "' AND status = 'PENDING'"))
              .isZero();
        });
  }
}
