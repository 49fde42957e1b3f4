package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.OutboxTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
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
    DataSource dataSource = TestPostgres.get().dataSource();
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean(DataSource.class, () -> dataSource)
        .withBean(
            PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
        .withBean(MeterRegistry.class, () -> registry)
        .withBean(OutboxTransport.class, () -> transport)
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
}
