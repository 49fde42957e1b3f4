package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.store.Slots;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.net.ConnectException;
import java.security.Principal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Health indicator, Actuator endpoint and dead event retention on a real table. */
class OutboxOperationsIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("ops");

  /** Counts the health indicator's reads of the table. */
  private final CountingDataSource counting =
      new CountingDataSource(TestPostgres.get().dataSource(), sql -> sql.contains("LIMIT ?) AS p"));

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withBean(DataSource.class, counting::dataSource)
          .withPropertyValues(
              "outbox.table.schema=" + schema,
              "outbox.health.max-pending-age=10m",
              "outbox.health.cache-time-to-live=0s");

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private UUID insert(String status, String age) {
    return insert(status, "orders", "OrderPlaced", "boom", age);
  }

  private void insertPending(String key, String age) {
    StoredEvents.insert(
        schema, UUID.randomUUID(), key, "PENDING", "orders", "OrderPlaced", "boom", age);
  }

  private UUID insert(String status, String destination, String type, String error, String age) {
    UUID id = UUID.randomUUID();
    return StoredEvents.insert(schema, id, "k-" + id, status, destination, type, error, age);
  }

  private long count(String where) {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + schema + ".outbox_event WHERE " + where);
  }

  private static SecurityContext user(String name) {
    Principal principal = () -> name;
    return new SecurityContext() {
      @Override
      public Principal getPrincipal() {
        return principal;
      }

      @Override
      public boolean isUserInRole(String role) {
        return false;
      }
    };
  }

  @Test
  void healthShowsAStuckEventAsAProblemButStaysUpByDefault() {
    runner.run(
        context -> {
          OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
          // The age is read from the first pending row of each slot (rows in write order). A row
          // written ten minutes younger than the next one of its slot does not occur in use, so
          // the stuck row goes to another slot than the fresh one.
          String freshKey = "order-1";
          String stuckKey = "order-2";
          assertThat(Slots.ofText(stuckKey)).isNotEqualTo(Slots.ofText(freshKey));
          insertPending(freshKey, "1 minute");
          Health fresh = health.health(true);
          assertThat(fresh.getStatus()).isEqualTo(Status.UP);
          assertThat(fresh.getDetails())
              .containsEntry("pending", 1L)
              .containsEntry("dead", 0L)
              .containsKey("checkedAt")
              .doesNotContainKey("problems");

          insertPending(stuckKey, "11 minutes");
          Health stuck = health.health(true);
          assertThat(stuck.getStatus()).isEqualTo(Status.UP);
          assertThat(stuck.getDetails())
              .containsEntry("pending", 2L)
              .containsEntry("problems", List.of("oldest pending event is older than PT10M"));
        });
  }

  @Test
  void healthReportsProblemsWithTheConfiguredStatus() {
    runner
        .withPropertyValues("outbox.health.problem-status=down")
        .run(
            context -> {
              insert("PENDING", "11 minutes");
              assertThat(context.getBean(OutboxHealthIndicator.class).health(true).getStatus())
                  .isEqualTo(Status.DOWN);
            });
    runner
        .withPropertyValues("outbox.health.problem-status=OUT_OF_SERVICE")
        .run(
            context ->
                assertThat(context.getBean(OutboxHealthIndicator.class).health(true).getStatus())
                    .isEqualTo(Status.OUT_OF_SERVICE));
  }

  @Test
  void deadEventsAreAProblemOnlyAboveTheConfiguredThreshold() {
    runner.run(
        context -> {
          insert("DEAD", "1 minute");
          insert("DEAD", "1 minute");
          Health health = context.getBean(OutboxHealthIndicator.class).health(true);
          assertThat(health.getDetails()).containsEntry("dead", 2L).doesNotContainKey("problems");
        });
    runner
        .withPropertyValues("outbox.health.max-dead=1", "outbox.health.problem-status=DOWN")
        .run(
            context -> {
              Health health = context.getBean(OutboxHealthIndicator.class).health(true);
              assertThat(health.getStatus()).isEqualTo(Status.DOWN);
              assertThat(health.getDetails())
                  .containsEntry("problems", List.of("more than 1 dead event(s)"));
            });
  }

  /** A broker that refuses every connection. */
  private static OutboxTransport unreachableBroker() {
    return new RecordingTransport() {
      @Override
      public CompletableFuture<?> send(OutboxEvent event) {
        return CompletableFuture.failedFuture(new ConnectException("Connection refused"));
      }

      @Override
      public boolean isBrokerUnavailable(Throwable failure) {
        return true;
      }
    };
  }

  @Test
  void aFailingRelayIsDownByDefaultAndAsConfigured() {
    runner
        .withBean(OutboxTransport.class, OutboxOperationsIntegrationTests::unreachableBroker)
        .run(
            context -> {
              insert("PENDING", "1 second");
              OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> health.health(true).getStatus().equals(Status.DOWN));
              assertThat(health.health(true).getDetails())
                  .containsKey("relayError")
                  .containsEntry("problems", List.of("relay failing (see relayError)"));
            });
    runner
        .withBean(OutboxTransport.class, OutboxOperationsIntegrationTests::unreachableBroker)
        .withPropertyValues("outbox.health.relay-failure-status=UP")
        .run(
            context -> {
              insert("PENDING", "1 second");
              OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> health.health(true).getDetails().containsKey("relayError"));
              assertThat(health.health(true).getStatus()).isEqualTo(Status.UP);
            });
  }

  @Test
  void healthReusesItsReadingWithinTheTimeToLive() {
    runner
        .withPropertyValues("outbox.health.cache-time-to-live=1h")
        .run(
            context -> {
              OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
              int before = counting.count();
              Health first = health.health(true);
              insert("PENDING", "1 minute");
              Health second = health.health(true);
              assertThat(counting.count() - before).isEqualTo(1);
              assertThat(second.getDetails())
                  .containsEntry("pending", 0L)
                  .containsEntry("checkedAt", first.getDetails().get("checkedAt"));
            });
    runner.run(
        context -> {
          OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
          int before = counting.count();
          long pending = (Long) health.health(true).getDetails().get("pending");
          insert("PENDING", "1 minute");
          assertThat(health.health(true).getDetails()).containsEntry("pending", pending + 1);
          assertThat(counting.count() - before).isEqualTo(2);
        });
  }

  @Test
  void healthIndicatorIsOffWhenDisabled() {
    runner.run(context -> assertThat(context).hasSingleBean(OutboxHealthIndicator.class));
    runner
        .withPropertyValues("management.health.outbox.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class));
    runner
        .withPropertyValues("management.health.defaults.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class));
  }

  @Test
  void badHealthSettingsFailStartupNamingTheProperty() {
    runner
        .withPropertyValues("outbox.health.problem-status=WARNING")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "outbox.health.problem-status must be one of UP, DOWN or OUT_OF_SERVICE,"
                            + " was 'WARNING'"));
    // UNKNOWN ranks below UP in Spring Boot's default order: the indicator would have read UP
    runner
        .withPropertyValues("outbox.health.relay-failure-status=unknown")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "outbox.health.relay-failure-status must be one of UP, DOWN or"
                            + " OUT_OF_SERVICE, was 'unknown' (UNKNOWN ranks below UP in Spring"
                            + " Boot's health order, so it would read UP)"));
    runner
        .withPropertyValues("outbox.health.max-dead=-1")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "outbox.health.max-dead must be 0 or more (or unset for no limit), was -1"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void endpointListsReplaysAndDiscardsDeadEventsAndLogsWhoDidIt() {
    runner.run(
        context -> {
          OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
          OutboxEndpointWebExtension web = context.getBean(OutboxEndpointWebExtension.class);
          UUID replayed = insert("DEAD", "1 minute");
          UUID discarded = insert("DEAD", "1 minute");

          Map<String, Object> summary = endpoint.summary();
          assertThat(summary).containsEntry("dead", 2L).containsEntry("pending", 0L);
          List<Map<String, Object>> dead = (List<Map<String, Object>>) summary.get("deadEvents");
          assertThat(dead)
              .extracting(d -> d.get("id"))
              .containsExactlyInAnyOrder(replayed.toString(), discarded.toString());
          assertThat(dead.get(0)).containsEntry("lastError", "boom").containsEntry("attempts", 3);

          try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
            assertThat(web.replay(user("alice"), replayed.toString()))
                .containsEntry("replayed", true);
            assertThat(web.discard(SecurityContext.NONE, discarded.toString()))
                .containsEntry("discarded", true);
            assertThat(web.discard(user("bob"), discarded.toString()))
                .containsEntry("discarded", false);
            assertThat(log.lines())
                .containsExactly(
                    "INFO Outbox endpoint: 'alice' replayed dead event "
                        + replayed
                        + ": 1 event(s)",
                    "WARN Outbox endpoint: an unauthenticated caller discarded dead event "
                        + discarded
                        + ": 1 event(s)",
                    "WARN Outbox endpoint: 'bob' discarded dead event "
                        + discarded
                        + ": 0 event(s)");
          }

          assertThat(endpoint.summary()).containsEntry("dead", 0L).containsEntry("pending", 1L);
          assertThat(count("id = '" + replayed + "' AND status = 'PENDING' AND attempts = 0"))
              .isOne();
        });
  }

  /**
   * A replay resets the attempts but not the time written, from which {@code outbox.retry.max-age}
   * is measured: a replayed event already older than that is dead-lettered again at its first
   * retryable failure, while a younger one is retried (docs/operations.md, replaying).
   */
  @Test
  void aReplayedEventOlderThanTheMaxAgeIsDeadLetteredAgainAtItsFirstRetryableFailure() {
    List<UUID> deadLetters = new CopyOnWriteArrayList<>();
    RecordingTransport failing =
        new RecordingTransport() {
          @Override
          public CompletableFuture<?> send(OutboxEvent event) {
            super.send(event);
            return CompletableFuture.failedFuture(new IllegalStateException("broker said no"));
          }

          @Override
          public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
            deadLetters.add(event.id());
            return CompletableFuture.completedFuture(null);
          }
        };
    runner
        .withBean(OutboxTransport.class, () -> failing)
        .withPropertyValues(
            "outbox.retry.max-age=1h",
            "outbox.retry.max-attempts=10",
            "outbox.retry.initial-backoff=1h",
            "outbox.retry.max-backoff=1h")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              UUID old = insert("DEAD", "2 hours");
              UUID young = insert("DEAD", "1 minute");
              OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
              assertThat(endpoint.replay("'alice'", old.toString()))
                  .containsEntry("replayed", true);
              assertThat(endpoint.replay("'alice'", young.toString()))
                  .containsEntry("replayed", true);

              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(
                      () ->
                          count("id = '" + old + "' AND status = 'DEAD' AND attempts = 1")
                                  + count(
                                      "id = '"
                                          + young
                                          + "' AND status = 'PENDING' AND attempts = 1")
                              == 2);
              assertThat(count("id = '" + old + "' AND last_error LIKE '%broker said no%'"))
                  .isOne();
              assertThat(failing.sent())
                  .extracting(OutboxEvent::id)
                  .containsExactlyInAnyOrder(old, young);
              await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters.isEmpty());
              assertThat(deadLetters).as("dead-lettered to the broker again").containsExactly(old);
            });
  }

  @Test
  @SuppressWarnings("unchecked")
  void endpointReplaysAndDiscardsInBulkByFilterAndLogsIt() {
    runner.run(
        context -> {
          OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
          OutboxEndpointWebExtension web = context.getBean(OutboxEndpointWebExtension.class);
          UUID timeout = insert("DEAD", "orders", "OrderPlaced", "Request TIMEOUT", "2 hours");
          UUID tooLarge = insert("DEAD", "orders", "OrderPlaced", "too large", "3 days");
          UUID payment = insert("DEAD", "payments", "PaymentTaken", "timeout", "1 hour");

          Map<String, Object> listed =
              endpoint.summary("orders", null, null, null, null, null, null, null);
          assertThat((List<Map<String, Object>>) listed.get("deadEvents"))
              .extracting(d -> d.get("id"))
              .containsExactlyInAnyOrder(timeout.toString(), tooLarge.toString());
          assertThat(listed).containsEntry("filter", Map.of("destination", "orders"));

          String dayAgo =
              java.time.Instant.now()
                  .minus(Duration.ofDays(1))
                  .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                  .toString();
          try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
            assertThat(
                    web.replayMatching(
                        user("ops"), "orders", null, null, "timeout", null, null, null, null, null))
                .containsEntry("replayed", 1L);
            assertThat(
                    web.discardMatching(
                        user("ops"), null, null, null, null, null, dayAgo, null, null, null))
                .containsEntry("discarded", 1L);
            assertThat(log.lines())
                .containsExactly(
                    "INFO Outbox endpoint: 'ops' replayed dead events matching"
                        + " {destination=orders, errorContains=timeout}: 1 event(s)",
                    "WARN Outbox endpoint: 'ops' discarded dead events matching {deadTo="
                        + dayAgo
                        + "}: 1 event(s)");
          }
          assertThat(count("status = 'PENDING'")).isOne();
          assertThat(count("id = '" + timeout + "' AND status = 'PENDING'")).isOne();
          assertThat(count("id = '" + tooLarge + "'")).isZero();
          assertThat(count("id = '" + payment + "' AND status = 'DEAD'")).isOne();

          assertThat(
                  web.discardMatching(
                      user("ops"), null, null, null, null, null, null, null, null, true))
              .containsEntry("discarded", 1L)
              .containsEntry("filter", Map.of("all", "true"));
          assertThat(count("status = 'DEAD'")).isZero();
        });
  }

  @Test
  void endpointRefusesBadInputWithAClearMessage() {
    runner.run(
        context -> {
          OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
          OutboxEndpointWebExtension web = context.getBean(OutboxEndpointWebExtension.class);
          insert("DEAD", "1 minute");
          assertThatThrownBy(
                  () ->
                      web.discardMatching(
                          user("ops"), null, null, null, null, null, null, null, null, null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage(
                  "A bulk discard needs at least one of destination, type, key, error, deadFrom,"
                      + " deadTo, createdFrom, createdTo, or all=true to discard every dead event");
          assertThatThrownBy(
                  () ->
                      web.replayMatching(
                          user("ops"), "orders", null, null, null, null, null, null, null, true))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage("all=true cannot be combined with a filter ({destination=orders})");
          assertThatThrownBy(
                  () ->
                      web.replayMatching(
                          user("ops"), null, null, null, null, "yesterday", null, null, null, null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage(
                  "'deadFrom' must be an ISO-8601 time with an offset, such as"
                      + " 2026-01-31T08:00:00Z, was 'yesterday'");
          assertThatThrownBy(
                  () ->
                      web.replayMatching(
                          user("ops"), " ", null, null, null, null, null, null, null, null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage(
                  "Dead event filter 'destination' must not be blank; leave it unset to match any"
                      + " value");
          assertThatThrownBy(() -> web.replay(user("ops"), "not-a-uuid"))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage("'not-a-uuid' is not an event id (a UUID)");
          assertThat(count("status = 'DEAD'")).isOne();
        });
  }

  @Test
  void deadEventsAreKeptByDefault() {
    runner.run(context -> assertThat(context).doesNotHaveBean(OutboxDeadEventRetention.class));
  }

  @Test
  void retentionDeletesOnlyOldDeadEventsAndLogsHowMany() {
    try (LogCapture log = LogCapture.of(OutboxDeadEventRetention.class)) {
      runner
          .withPropertyValues("outbox.dead.retention=14d", "outbox.dead.purge-interval=100ms")
          .run(
              context -> {
                UUID oldDead = insert("DEAD", "15 days");
                UUID youngDead = insert("DEAD", "13 days");
                UUID oldPending = insert("PENDING", "30 days");
                await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> count("id = '" + oldDead + "'") == 0);
                assertThat(count("id = '" + youngDead + "' AND status = 'DEAD'")).isOne();
                assertThat(count("id = '" + oldPending + "' AND status = 'PENDING'")).isOne();
                // Nothing left to delete; empty while the scheduled round holds the lock.
                assertThat(context.getBean(OutboxDeadEventRetention.class).purge())
                    .satisfiesAnyOf(
                        deleted -> assertThat(deleted).isEmpty(),
                        deleted -> assertThat(deleted).hasValue(0));
              });
      assertThat(log.lines())
          .contains(
              "INFO Deleted 1 dead event(s) dead-lettered more than PT336H ago"
                  + " (outbox.dead.retention)");
    }
  }

  @Test
  void aRetentionShorterThanAnHourIsRefused() {
    runner
        .withPropertyValues("outbox.dead.retention=14")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "outbox.dead.retention must be at least PT1H (or unset to keep dead"
                            + " events until replayed or discarded), was PT0.014S"));
  }
}
