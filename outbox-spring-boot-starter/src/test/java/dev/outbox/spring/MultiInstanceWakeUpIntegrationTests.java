package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.RelayStore;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two instances of a service on one outbox table, each with its relay: an event that one instance
 * commits to a slot the other holds wakes the other's relay at once, through {@code NOTIFY}, rather
 * than waiting for that relay's next lease renewal.
 *
 * <p>The poll interval, and with it the renewal, is ten minutes, far beyond the wait: the event can
 * arrive within the wait only by the wake-up. The instance that holds every slot starts first, so
 * the second one, joining while every slot has a live owner, holds none.
 */
class MultiInstanceWakeUpIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final String POLL_INTERVAL = "10m";

  private final String schema = TestPostgres.get().createSchema("instances");
  private ConfigurableApplicationContext owner;
  private ConfigurableApplicationContext writer;

  @AfterEach
  void stop() {
    try {
      if (writer != null) {
        writer.close();
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
    owner = start("owner");
    OutboxRelay ownerRelay = owner.getBean(OutboxRelay.class);
    await().atMost(TIMEOUT).until(() -> ownerRelay.ownedSlots() == RelayStore.SLOTS);
    writer = start("writer");
    OutboxRelay writerRelay = writer.getBean(OutboxRelay.class);
    await().atMost(TIMEOUT).until(writerRelay::isRunning);
    assertThat(writerRelay.ownedSlots()).isZero();

    Outbox outbox = writer.getBean(Outbox.class);
    UUID id =
        new TransactionTemplate(writer.getBean(PlatformTransactionManager.class))
            .execute(status -> outbox.publish("orders", "order-1", "{\"n\":1}"));

    RecordingTransport delivered = owner.getBean(RecordingTransport.class);
    await("the event on the owner's transport")
        .atMost(TIMEOUT)
        .until(() -> delivered.sent().stream().map(OutboxEvent::id).toList().contains(id));
    assertThat(writer.getBean(RecordingTransport.class).sent()).isEmpty();
  }

  private ConfigurableApplicationContext start(String name) {
    return new SpringApplicationBuilder(Instance.class)
        .web(WebApplicationType.NONE)
        .properties(
            "spring.application.name=" + name,
            "spring.datasource.url=" + PostgresSchemas.urlFor(schema),
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "outbox.table.schema=" + schema,
            "outbox.relay.poll-interval=" + POLL_INTERVAL)
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
