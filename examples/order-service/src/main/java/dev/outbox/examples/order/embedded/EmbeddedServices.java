package dev.outbox.examples.order.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.commons.logging.Log;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.jspecify.annotations.Nullable;

/**
 * The embedded PostgreSQL server and Kafka broker started for this run, and the Spring properties
 * that point the application at them. Registered as a bean so that it is closed after the beans
 * that use it.
 */
public final class EmbeddedServices implements AutoCloseable {

  private final Log log;
  private @Nullable EmbeddedPostgres postgres;
  private @Nullable KafkaClusterTestKit kafka;
  private final Map<String, Object> properties = new LinkedHashMap<>();

  /**
   * @param log where to report; a deferred log while Spring Boot's logging is not set up yet
   */
  EmbeddedServices(Log log) {
    this.log = log;
  }

  /** Starts a PostgreSQL server whose binaries and data live under {@code workingDirectory}. */
  void startPostgres(Path workingDirectory) {
    try {
      Files.createDirectories(workingDirectory);
      postgres =
          EmbeddedPostgres.builder()
              .setOverrideWorkingDirectory(workingDirectory.toFile())
              .setCleanDataDirectory(true)
              // Stopped by close() when the application context closes, after the data source;
              // its own shutdown hook would stop it while the application is still using it.
              .setRegisterShutdownHook(false)
              .start();
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start the embedded PostgreSQL server", ex);
    }
    properties.put("spring.datasource.url", postgres.getJdbcUrl("postgres", "postgres"));
    properties.put("spring.datasource.username", "postgres");
    properties.put("spring.datasource.password", "");
    log.info("Started an embedded PostgreSQL on port " + postgres.getPort());
  }

  /**
   * Starts a single-node KRaft broker with Kafka's own test cluster, the one spring-kafka-test's
   * {@code EmbeddedKafkaKraftBroker} wraps. It is used directly so that its data lives in a
   * directory of ours: in a directory of its own choosing, a JVM shutdown hook deletes the data
   * while the broker is still shutting down.
   */
  void startKafka(Path baseDirectory) {
    Path directory = baseDirectory.resolve(UUID.randomUUID().toString());
    try {
      Files.createDirectories(directory);
      KafkaClusterTestKit cluster =
          new KafkaClusterTestKit.Builder(
                  new TestKitNodes.Builder()
                      .setCombined(true)
                      .setNumBrokerNodes(1)
                      .setNumControllerNodes(1)
                      .setBaseDirectory(directory)
                      .build())
              .setConfigProp("auto.create.topics.enable", "false")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("offsets.topic.replication.factor", "1")
              .setDeleteOnClose(true)
              .build();
      kafka = cluster;
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start the embedded Kafka broker", ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting the embedded Kafka broker", ex);
    } catch (Exception ex) {
      throw new IllegalStateException("Could not start the embedded Kafka broker", ex);
    }
    properties.put("spring.kafka.bootstrap-servers", kafka.bootstrapServers());
    // The broker's own internal client warns once, harmlessly, while it shuts down.
    properties.put("logging.level.org.apache.kafka.clients.NetworkClient", "ERROR");
    log.info("Started an embedded Kafka broker at " + kafka.bootstrapServers());
  }

  /** Whether anything was started. */
  boolean isEmpty() {
    return postgres == null && kafka == null;
  }

  /** The properties pointing Spring at the started services. */
  Map<String, Object> properties() {
    return properties;
  }

  /** Stops what was started; safe to call more than once. */
  @Override
  public synchronized void close() {
    KafkaClusterTestKit cluster = kafka;
    kafka = null;
    if (cluster != null) {
      try {
        cluster.close();
        log.info("Stopped the embedded Kafka broker");
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        log.warn("Interrupted while stopping the embedded Kafka broker");
      } catch (Exception ex) {
        log.warn("Could not stop the embedded Kafka broker cleanly: " + ex.getMessage());
      }
    }
    EmbeddedPostgres server = postgres;
    postgres = null;
    if (server != null) {
      try {
        server.close();
        log.info("Stopped the embedded PostgreSQL");
      } catch (IOException ex) {
        log.warn("Could not stop the embedded PostgreSQL cleanly: " + ex.getMessage());
      }
    }
  }
}
