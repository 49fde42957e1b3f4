package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.RelayStore;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two instances of a service on one outbox table, each with its relay: an event that one instance
 * commits to a slot the other holds wakes the other's relay at once, through {@code NOTIFY}; and,
 * as an operator sees them, the endpoint of one instance acts on events whose slots the other
 * instance's relay holds.
 *
 * <p>The poll interval, and with it the lease renewal that also finds events nobody woke the relay
 * for, is an hour (renewals a tenth of that apart while slots settle), far beyond the waits: an
 * event can be published within a wait only if the holder of its slot is woken. The instance that
 * holds every slot starts first, so the second one, joining while every slot has a live owner,
 * holds none, and keeps holding none until the first one's next renewal.
 */
class MultiInstanceIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final String POLL_INTERVAL = "1h";

  /** As docs/operations.md suggests for taking instances out of traffic (readiness group). */
  private static final String PROBLEM_STATUS = "outbox.health.problem-status=OUT_OF_SERVICE";

  private final String schema = TestPostgres.get().createSchema("operations");
  private ConfigurableApplicationContext owner;
  private ConfigurableApplicationContext operator;

  @BeforeEach
  void start() {
    owner = start("owner", PROBLEM_STATUS);
    OutboxRelay ownerRelay = owner.getBean(OutboxRelay.class);
    await().atMost(TIMEOUT).until(() -> ownerRelay.ownedSlots() == RelayStore.SLOTS);
    operator = start("operator", PROBLEM_STATUS);
    OutboxRelay operatorRelay = operator.getBean(OutboxRelay.class);
    await().atMost(TIMEOUT).until(operatorRelay::isRunning);
    assertThat(operatorRelay.ownedSlots()).isZero();
  }

  @AfterEach
  void stop() {
    try {
      if (operator != null) {
        operator.close();
      }
      if (owner != null) {
        owner.close();
      }
    } finally {
      TestPostgres.get().dropSchema(schema);
    }
  }

  @Test
  void anEventCommittedToASlotAnotherInstanceHoldsWakesThatInstancesRelay() {
    Outbox outbox = operator.getBean(Outbox.class);
    UUID id =
        new TransactionTemplate(operator.getBean(PlatformTransactionManager.class))
            .execute(status -> outbox.publish("orders", "order-1", "{\"n\":1}"));

    RecordingTransport delivered = owner.getBean(RecordingTransport.class);
    await("the event on the owner's transport")
        .atMost(TIMEOUT)
        .until(() -> delivered.sent().stream().map(OutboxEvent::id).toList().contains(id));
    assertThat(operator.getBean(RecordingTransport.class).sent()).isEmpty();
  }

  @Test
  void aDeadEventReplayedOnAnInstanceThatDoesNotHoldItsSlotIsPublishedByTheHolderAtOnce() {
    UUID id = insertDead("order-1");
    RecordingTransport delivered = owner.getBean(RecordingTransport.class);

    Map<String, Object> answer = operator.getBean(OutboxEndpoint.class).replay(id.toString());

    assertThat(answer).containsEntry("replayed", true);
    await("the replayed event on the owner's transport")
        .atMost(TIMEOUT)
        .until(() -> delivered.sent().stream().map(OutboxEvent::id).toList().contains(id));
    assertThat(operator.getBean(RecordingTransport.class).sent()).isEmpty();
  }

  @Test
  void
      deadEventsReplayedInBulkOnAnInstanceThatDoesNotHoldTheirSlotsArePublishedByTheHolderAtOnce() {
    UUID first = insertDead("order-1");
    UUID second = insertDead("order-2");
    RecordingTransport delivered = owner.getBean(RecordingTransport.class);

    Map<String, Object> answer =
        operator
            .getBean(OutboxEndpoint.class)
            .replayMatching(null, null, null, null, null, null, null, null, true);

    assertThat(answer).containsEntry("replayed", 2L);
    await("the replayed events on the owner's transport")
        .atMost(TIMEOUT)
        .until(
            () ->
                delivered.sent().stream()
                    .map(OutboxEvent::id)
                    .toList()
                    .containsAll(List.of(first, second)));
    assertThat(operator.getBean(RecordingTransport.class).sent()).isEmpty();
  }

  @Test
  void aStuckEventIsAProblemInTheHealthOfEveryInstanceAlsoOfOneThatHoldsNoSlot() {
    insert("order-1", "PENDING", "1 hour");

    Health ofOwner = owner.getBean(OutboxHealthIndicator.class).health(true);
    Health ofOperator = operator.getBean(OutboxHealthIndicator.class).health(true);

    assertThat(ofOwner.getDetails()).containsEntry("slots", RelayStore.SLOTS);
    assertThat(ofOperator.getDetails()).containsEntry("slots", 0);
    for (Health health : List.of(ofOwner, ofOperator)) {
      assertThat(health.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
      assertThat(health.getDetails())
          .containsEntry("pending", 1L)
          .containsEntry("relay", "running")
          .containsEntry("problems", List.of("oldest pending event is older than PT5M"))
          .doesNotContainKey("relayError");
    }
  }

  /**
   * Which instance publishes which slot: the member id in an instance's health and in the
   * endpoint's relay state is the owner the slot table names, and the other instance's id is its
   * own.
   */
  @Test
  @SuppressWarnings("unchecked")
  void eachInstanceNamesTheMemberItHoldsItsSlotsUnderInItsHealthAndTheEndpoint() {
    String ofOwner =
        (String) owner.getBean(OutboxHealthIndicator.class).health(true).getDetails().get("member");
    String ofOperator =
        (String)
            operator.getBean(OutboxHealthIndicator.class).health(true).getDetails().get("member");

    assertThat(ofOwner)
        .isEqualTo(owner.getBean(OutboxRelay.class).member())
        .as("the relay's name, the host where it names itself, a UUID")
        .matches(
            "outbox-relay-([A-Za-z0-9._-]+-)?\\p{XDigit}{8}(-\\p{XDigit}{4}){3}-\\p{XDigit}{12}")
        .isNotEqualTo(ofOperator);
    assertThat(slotsOwnedBy(ofOwner)).isEqualTo(RelayStore.SLOTS);
    assertThat(slotsOwnedBy(ofOperator)).isZero();
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + schema
                        + ".outbox_event_relay WHERE member = '"
                        + ofOperator
                        + "'"))
        .as("the operator instance is a registered member")
        .isOne();
    Map<String, Object> relay =
        (Map<String, Object>) operator.getBean(OutboxEndpoint.class).summary().get("relay");
    assertThat(relay).containsEntry("member", ofOperator).containsEntry("slots", 0);
  }

  private long slotsOwnedBy(String member) {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM " + schema + ".outbox_event_slot WHERE owner = '" + member + "'");
  }

  /** A dead event written with SQL: no instance is woken for it. */
  private UUID insertDead(String key) {
    return insert(key, "DEAD", "0 seconds");
  }

  /** An event written with SQL {@code age} ago: no instance is woken for it. */
  private UUID insert(String key, String status, String age) {
    return StoredEvents.insert(
        schema, UUID.randomUUID(), key, status, "orders", "OrderPlaced", "boom", age);
  }

  private ConfigurableApplicationContext start(String name, String... properties) {
    return new SpringApplicationBuilder(Instance.class)
        .web(WebApplicationType.NONE)
        .properties(
            "spring.application.name=" + name,
            "spring.datasource.url=" + PostgresSchemas.urlFor(schema),
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "outbox.table.schema=" + schema,
            "outbox.relay.poll-interval=" + POLL_INTERVAL)
        .properties(properties)
        .run();
  }

  /** A service instance: the starter's auto-configuration with an in-memory transport. */
  @SpringBootConfiguration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class Instance {

    @Bean
    RecordingTransport recordingTransport() {
      return new RecordingTransport();
    }
  }
}
