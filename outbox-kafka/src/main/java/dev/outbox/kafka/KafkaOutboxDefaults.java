package dev.outbox.kafka;

import java.time.Duration;

/** Every default of the Kafka transport, defined once; the Spring properties refer to these. */
public final class KafkaOutboxDefaults {

  /** Whether the Kafka transport is auto-configured when Spring Kafka is present. */
  public static final boolean ENABLED = true;

  /**
   * Appended to a topic name to name its dead-letter topic. The same suffix as Spring Kafka's
   * {@code DeadLetterPublishingRecoverer} uses by default, so one dead-letter topic per topic
   * serves both the outbox and the application's own listeners.
   */
  public static final String DEAD_LETTER_SUFFIX = "-dlt";

  /** The CloudEvents {@code source} when neither it nor {@code spring.application.name} is set. */
  public static final String SOURCE = "outbox";

  /**
   * The producer's {@code linger.ms} unless the application sets one: measured (docs/kafka.md,
   * "Producer defaults (measured)"), 5 ms drained a backlog 10-55 % faster than 0 ms for up to 0.2
   * ms more median send-to-ack latency, since the relay's flush sends a handed-over batch at once
   * and the linger only keeps its first records from leaving in small requests of their own.
   */
  public static final int LINGER_MS = 5;

  /**
   * The producer's {@code batch.size} in bytes unless the application sets one: measured, 131072
   * drained faster than 16384 and 65536, and 262144, faster only without compression, takes twice
   * the {@code buffer.memory} per partition.
   */
  public static final int BATCH_SIZE_BYTES = 131_072;

  /**
   * The producer's {@code compression.type} unless the application sets one: measured in the
   * application benchmarks (docs/kafka.md, "Compression, measured in the application"), no
   * compression kept up with more committed events per second and showed lower
   * commit-to-acknowledgement latency than lz4 while the application was writing, and drained a
   * backlog as fast. A relay's batches under live traffic hold a few records per partition, where
   * lz4 saves few bytes for a compressor set up per batch. zstd cost ten times the producer CPU.
   */
  public static final String COMPRESSION_TYPE = "none";

  /**
   * How long a topic that a send waited for in vain (missing, or no broker reachable) keeps being
   * probed for on the transport's probe thread without any send asking for it. While probed, sends
   * to it fail at once instead of each blocking {@code max.block.ms}.
   */
  public static final Duration UNAVAILABLE_TOPIC_FORGET_AFTER = Duration.ofMinutes(1);

  /** The pause between two rounds of probes for unavailable topics. */
  public static final Duration UNAVAILABLE_TOPIC_PROBE_PAUSE = Duration.ofMillis(500);

  /**
   * How long a send may block for metadata or buffer space, unless the application set it: the
   * Kafka client's own 60 s would hold the relay thread for a minute when the cluster is away.
   */
  public static final int MAX_BLOCK_MS = 2000;

  private KafkaOutboxDefaults() {}
}
