package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.OutboxTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.LazyInitializationBeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The meters as a Prometheus server scrapes them, against the list in {@code docs/operations.md}:
 * every documented meter is in the scrape, every {@code outbox_} series of the scrape is
 * documented, and no meter is documented twice. A relay publishes one event through the starter so
 * the per-destination meters exist.
 */
class OutboxMetricsIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("metrics");

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  /** The starter over the test schema, publishing through {@code transport}, metered. */
  private static ApplicationContextRunner publishingThrough(
      OutboxTransport transport, MeterRegistry registry) {
    return metered(registry).withBean(OutboxTransport.class, () -> transport);
  }

  /** The starter over the test schema, metered, without a transport (so without a relay). */
  private static ApplicationContextRunner metered(MeterRegistry registry) {
    DataSource dataSource = TestPostgres.get().dataSource();
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean(DataSource.class, () -> dataSource)
        .withBean(
            PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
        .withBean(MeterRegistry.class, () -> registry);
  }

  @Test
  void scrapeHoldsEveryDocumentedMeterOnceAndNothingUndocumented() throws IOException {
    DocumentedMeters documented = DocumentedMeters.read();
    assertThat(documented.meters())
        .as("meters documented in docs/operations.md")
        .hasSizeGreaterThan(8);
    assertThat(documented.meters().stream().map(DocumentedMeters.Meter::name).distinct().count())
        .as("no meter documented twice")
        .isEqualTo(documented.meters().size());

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RecordingTransport transport = new RecordingTransport();
    publishingThrough(transport, registry)
        .run(
            context -> {
              Outbox outbox = context.getBean(Outbox.class);
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(status -> outbox.publish("orders", "order-1", "{}"));
              // published() is reported right after the acknowledgement; the relay wakes on the
              // commit and in any case within a poll interval.
              await()
                  .atMost(OutboxDefaults.POLL_INTERVAL.plus(Duration.ofSeconds(20)))
                  .until(
                      () -> {
                        var counter = registry.find("outbox.events.published").counter();
                        return counter != null && counter.count() == 1;
                      });
            });

    String scrape = registry.scrape();
    Set<String> series = new TreeSet<>();
    Matcher sample = Pattern.compile("(?m)^(outbox_[a-z_]+)[{ ]").matcher(scrape);
    while (sample.find()) {
      series.add(sample.group(1));
    }
    assertThat(series).as("outbox series in the scrape").isEqualTo(documented.series());
    assertThat(scrape)
        .as("per-destination meters carry the destination tag")
        .contains("outbox_events_published_total{destination=\"orders\"} 1.0");
  }

  /**
   * With lazy initialization (spring.main.lazy-initialization=true) on an instance without a relay,
   * nothing asks for the metrics bean: it is created at startup all the same, so the backlog gauges
   * are scraped (they were missing).
   */
  @Test
  void backlogGaugesAreRegisteredWithLazyInitializationAndNoRelay() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    metered(registry)
        .withInitializer(
            context ->
                context.addBeanFactoryPostProcessor(
                    new LazyInitializationBeanFactoryPostProcessor()))
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(dev.outbox.relay.OutboxRelay.class);
              assertThat(registry.find("outbox.events.pending").gauge())
                  .as("backlog gauge")
                  .isNotNull();
            });
  }

  /**
   * An event whose sends fail (retryable) until its two attempts are used up: each attempt counts
   * as failed, the first is retried, the second is dead with its dead letter sent; the stored-dead
   * gauge then counts its row.
   */
  @Test
  void anEventThatFailsTwiceCountsTwoFailuresOneRetryAndOneDeadLetter() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RecordingTransport refusing =
        new RecordingTransport() {
          @Override
          public CompletableFuture<?> send(OutboxEvent event) {
            return CompletableFuture.failedFuture(new IllegalStateException("refused"));
          }
        };
    publishingThrough(refusing, registry)
        .withPropertyValues(
            "outbox.table.name=failing_outbox",
            "outbox.retry.max-attempts=2",
            "outbox.retry.initial-backoff=10ms",
            "outbox.retry.jitter=0")
        .run(
            context -> {
              Outbox outbox = context.getBean(Outbox.class);
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(status -> outbox.publish("payments", "p-1", "{}"));
              // The second attempt is due 10 ms after the first; the relay finds it within a
              // poll interval. The gauge reads the table at most once per its cache time.
              await()
                  .atMost(
                      OutboxDefaults.POLL_INTERVAL
                          .multipliedBy(2)
                          .plus(Duration.ofMillis(MicrometerRelayListener.STATS_TTL_MILLIS))
                          .plus(Duration.ofSeconds(20)))
                  .until(() -> registry.get("outbox.events.dead.stored").gauge().value() == 1.0);
            });

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("outbox_events_failed_total{destination=\"payments\"} 2.0")
        .contains("outbox_events_retried_total{destination=\"payments\"} 1.0")
        .contains(
            "outbox_events_dead_total{dead_letter_sent=\"true\",destination=\"payments\"} 1.0")
        .contains("outbox_events_published_total{destination=\"payments\"} 0.0");
  }

  @Test
  void aRowTheRelayCannotDecodeCountsAsDeadWithoutADeadLetterUnderAnUnknownDestination() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerRelayListener listener =
        new MicrometerRelayListener(
            registry,
            new PostgresOutboxRepository(
                TestPostgres.get().dataSource(), TableName.of(SCHEMA, "x")),
            Clock.systemUTC());

    listener.undecodable(UUID.randomUUID(), "headers are not a JSON object of strings");

    assertThat(registry.scrape())
        .contains(
            "outbox_events_dead_total{dead_letter_sent=\"false\",destination=\"unknown\"} 1.0");
  }
}
