package dev.outbox.kafka.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.kafka.e2e.ShopApplication;
import dev.outbox.kafka.e2e.ShopService;
import dev.outbox.spring.PublishedEvents;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The switches of docs/debezium.md, in the order the page gives them: a service publishing through
 * its relay lets the documented connector read the table, waits until nothing written before the
 * slot is pending, moves to CDC mode, and later back to the relay, after which the connector's slot
 * and publication are dropped. Every event written in any phase must reach Kafka through the relay
 * or the connector, with its id; where both publish it (while they overlap), both carry the same
 * id, which is what consumers de-duplicate by.
 *
 * <p>The relay publishes to a real KRaft broker in the test JVM, read back with a plain consumer;
 * the connector's records are those Kafka Connect would write (see {@link DocumentedConnector}).
 * PostgreSQL is a server of the test's own, with {@code wal_level = logical}.
 */
class DebeziumSwitchIntegrationTests {

  /** The bound of the connector's start, of each application's start, and of each arrival. */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static final String SLOT = "outbox_switch_test";

  /** The publication Debezium creates by default, as the page names it. */
  private static final String PUBLICATION = "dbz_publication";

  private static final int EVENTS_PER_PHASE = 6;

  @TempDir static Path data;

  private static EmbeddedPostgres postgres;
  private static EmbeddedKafkaKraftBroker kafka;

  @BeforeAll
  static void start() throws Exception {
    postgres = DocumentedConnector.logicalPostgres(data.resolve("pg"), TIMEOUT);
    kafka = new EmbeddedKafkaKraftBroker(1, 1, ShopService.TOPIC);
    kafka.afterPropertiesSet();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (kafka != null) {
        kafka.destroy();
      }
    } finally {
      if (postgres != null) {
        postgres.close();
      }
    }
  }

  @Test
  void noEventIsLostSwitchingToCdcModeAndBackInTheDocumentedOrder() throws Exception {
    Map<String, List<String>> written = new HashMap<>();
    List<String> viaConnector;
    try (ConfigurableApplicationContext relay = startApplication(false)) {
      written.put("relay, before the slot", placeOrders(relay, "before-slot"));
      awaitNothingPending(relay);

      // 1. Let Debezium read the table.
      try (DocumentedConnector connector =
          DocumentedConnector.start(
              relay.getBean(DataSource.class), postgres.getPort(), SLOT, TIMEOUT)) {
        written.put("relay, connector streaming", placeOrders(relay, "overlap"));
        // Before the last instance in relay mode goes: nothing pending.
        awaitNothingPending(relay);
        relay.close();

        // 2. Put the service in CDC mode.
        try (ConfigurableApplicationContext cdc = startApplication(true)) {
          written.put("CDC mode", placeOrders(cdc, "cdc"));
          assertThat(pending(cdc)).as("rows left in CDC mode").isZero();
        }

        // Switching back: the relay publishes what is written from then on; the connector keeps
        // running until every instance runs the relay.
        try (ConfigurableApplicationContext back = startApplication(false)) {
          written.put("relay again, connector streaming", placeOrders(back, "back"));
          awaitArrival(connector, written.get("CDC mode"));
          connector.close();
          viaConnector = connector.delivered().stream().map(Delivered::id).toList();

          // The server lets the slot go once it sees the connector's connection end; until then
          // it refuses to drop it ("replication slot ... is active for PID ...").
          JdbcClient jdbc = JdbcClient.create(back.getBean(DataSource.class));
          await("the connector's slot no longer active")
              .atMost(TIMEOUT)
              .until(
                  () ->
                      !jdbc.sql("SELECT active FROM pg_replication_slots WHERE slot_name = ?")
                          .param(SLOT)
                          .query(Boolean.class)
                          .single());
          jdbc.sql("SELECT pg_drop_replication_slot(?)").param(SLOT).query().singleRow();
          jdbc.sql("DROP PUBLICATION " + PUBLICATION).update();
          written.put("relay, connector gone", placeOrders(back, "after"));
          awaitNothingPending(back);

          assertThat(
                  jdbc.sql("SELECT count(*) FROM pg_replication_slots").query(Long.class).single())
              .isZero();
        }
      }
    }

    List<String> relayed = new ArrayList<>();
    for (String phase :
        List.of(
            "relay, before the slot",
            "relay, connector streaming",
            "relay again, connector streaming",
            "relay, connector gone")) {
      relayed.addAll(written.get(phase));
    }
    Set<String> viaRelay = readTopicIds(relayed);
    List<String> all = written.values().stream().flatMap(List::stream).toList();
    assertThat(all).hasSize(5 * EVENTS_PER_PHASE).doesNotHaveDuplicates();
    for (Map.Entry<String, List<String>> phase : written.entrySet()) {
      List<String> missing = new ArrayList<>(phase.getValue());
      missing.removeIf(id -> viaRelay.contains(id) || viaConnector.contains(id));
      assertThat(missing)
          .as("events written in phase '%s' that never arrived", phase.getKey())
          .isEmpty();
    }
    assertThat(written.get("CDC mode")).allMatch(viaConnector::contains);
    assertThat(written.get("relay, connector streaming"))
        .as("published by both, with the same ids")
        .allMatch(viaRelay::contains)
        .allMatch(viaConnector::contains);
    assertThat(written.get("relay, before the slot")).noneMatch(viaConnector::contains);
    assertThat(written.get("relay, connector gone")).allMatch(viaRelay::contains);
  }

  /** Places {@link #EVENTS_PER_PHASE} orders over three keys; returns their event ids. */
  private static List<String> placeOrders(
      ConfigurableApplicationContext application, String phase) {
    ShopService shop = application.getBean(ShopService.class);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < EVENTS_PER_PHASE; i++) {
      shop.placeOrder(phase + "-" + (i % 3), i + 1);
      ids.add(PublishedEvents.lastId().toString());
    }
    return ids;
  }

  private static void awaitNothingPending(ConfigurableApplicationContext application) {
    await("nothing pending").atMost(TIMEOUT).until(() -> pending(application) == 0);
  }

  private static long pending(ConfigurableApplicationContext application) {
    return JdbcClient.create(application.getBean(DataSource.class))
        .sql("SELECT count(*) FROM outbox_event WHERE status = 'PENDING'")
        .query(Long.class)
        .single();
  }

  private static void awaitArrival(DocumentedConnector connector, List<String> ids) {
    await("the connector's records of " + ids)
        .atMost(TIMEOUT)
        .failFast("the connector stopped", connector::assertRunning)
        .until(() -> connector.delivered().stream().map(Delivered::id).toList().containsAll(ids));
  }

  /**
   * The ids ({@code ce_id}) of the records on the topic, read with a plain consumer until {@code
   * expected} are among them or the timeout passes.
   */
  private static Set<String> readTopicIds(List<String> expected) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, "switch-test");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    Set<String> ids = new HashSet<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(ShopService.TOPIC));
      long end = System.nanoTime() + TIMEOUT.toNanos();
      while (!ids.containsAll(expected) && System.nanoTime() < end) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
          Header id = record.headers().lastHeader("ce_id");
          ids.add(new String(id.value(), StandardCharsets.UTF_8));
        }
      }
    }
    return ids;
  }

  private static ConfigurableApplicationContext startApplication(boolean cdc) {
    return new SpringApplicationBuilder(ShopApplication.class)
        .web(WebApplicationType.NONE)
        .properties(
            Map.of(
                "spring.datasource.url",
                postgres.getJdbcUrl("postgres", "postgres"),
                "spring.datasource.username",
                "postgres",
                "spring.jpa.hibernate.ddl-auto",
                "update",
                "spring.jpa.open-in-view",
                "false",
                "spring.kafka.bootstrap-servers",
                kafka.getBrokersAsString(),
                "outbox.cdc.enabled",
                String.valueOf(cdc),
                "outbox.kafka.enabled",
                String.valueOf(!cdc)))
        .run();
  }
}
