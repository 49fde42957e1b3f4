package dev.outbox.examples.order.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.logging.Log;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The embedded PostgreSQL server and Kafka broker started for this run, and the Spring properties
 * that point the application at them. Registered as a bean so that it is closed after the beans
 * that use it.
 */
public final class EmbeddedServices implements AutoCloseable {

  private final Log log;
  private @Nullable EmbeddedPostgres postgres;
  private @Nullable EmbeddedKafkaKraftBroker kafka;
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
              .start();
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start the embedded PostgreSQL server", ex);
    }
    properties.put("spring.datasource.url", postgres.getJdbcUrl("postgres", "postgres"));
    properties.put("spring.datasource.username", "postgres");
    properties.put("spring.datasource.password", "");
    log.info("Started an embedded PostgreSQL on port " + postgres.getPort());
  }

  /** Starts a single-node KRaft broker. */
  void startKafka() {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1);
    broker.brokerProperty("auto.create.topics.enable", "false");
    broker.brokerProperty("group.initial.rebalance.delay.ms", "0");
    broker.afterPropertiesSet();
    kafka = broker;
    properties.put("spring.kafka.bootstrap-servers", broker.getBrokersAsString());
    log.info("Started an embedded Kafka broker at " + broker.getBrokersAsString());
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
    EmbeddedKafkaKraftBroker broker = kafka;
    kafka = null;
    if (broker != null) {
      broker.destroy();
      log.info("Stopped the embedded Kafka broker");
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
