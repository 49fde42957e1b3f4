package dev.outbox.examples.saga;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.jspecify.annotations.Nullable;

/**
 * What the saga runs on: one embedded PostgreSQL per service (each service owns its database) and
 * one embedded single-node Kafka broker they share. Real servers, started in this JVM.
 */
final class EmbeddedInfrastructure implements AutoCloseable {

  private final Path directory;
  private final List<EmbeddedPostgres> databases = new ArrayList<>();
  private @Nullable KafkaClusterTestKit kafka;

  /**
   * @param directory where the servers keep their files: PostgreSQL's binaries (unpacked once) and
   *     the data of this run, deleted when they stop
   */
  EmbeddedInfrastructure(Path directory) {
    this.directory = directory;
  }

  /** Starts a PostgreSQL server and returns its JDBC URL (user {@code postgres}, no password). */
  String startPostgres() {
    Path workingDirectory = directory.resolve("postgres");
    try {
      Files.createDirectories(workingDirectory);
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setOverrideWorkingDirectory(workingDirectory.toFile())
              .setCleanDataDirectory(true)
              .setRegisterShutdownHook(false)
              .start();
      databases.add(postgres);
      return postgres.getJdbcUrl("postgres", "postgres");
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start an embedded PostgreSQL server", ex);
    }
  }

  /** Starts the Kafka broker and returns its bootstrap servers. */
  String startKafka() {
    Path kafkaDirectory = directory.resolve("kafka").resolve(UUID.randomUUID().toString());
    try {
      Files.createDirectories(kafkaDirectory);
      KafkaClusterTestKit cluster =
          new KafkaClusterTestKit.Builder(
                  new TestKitNodes.Builder()
                      .setCombined(true)
                      .setNumBrokerNodes(1)
                      .setNumControllerNodes(1)
                      .setBaseDirectory(kafkaDirectory)
                      .build())
              .setConfigProp("auto.create.topics.enable", "false")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("offsets.topic.replication.factor", "1")
              // The consumer offsets topic is created when the first consumer looks for its group
              // coordinator; with Kafka's default of 50 partitions the first joins retry until all
              // of them are ready. A single-node broker with a handful of groups needs one.
              .setConfigProp("offsets.topic.num.partitions", "1")
              .setDeleteOnClose(true)
              .build();
      kafka = cluster;
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      return cluster.bootstrapServers();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting the embedded Kafka broker", ex);
    } catch (Exception ex) {
      throw new IllegalStateException("Could not start the embedded Kafka broker", ex);
    }
  }

  /** Stops everything started; safe to call more than once. */
  @Override
  public synchronized void close() {
    KafkaClusterTestKit cluster = kafka;
    kafka = null;
    if (cluster != null) {
      try {
        cluster.close();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      } catch (Exception ex) {
        System.err.println("Could not stop the embedded Kafka broker cleanly: " + ex);
      }
    }
    for (EmbeddedPostgres postgres : databases) {
      try {
        postgres.close();
      } catch (IOException ex) {
        System.err.println("Could not stop an embedded PostgreSQL cleanly: " + ex);
      }
    }
    databases.clear();
  }
}
