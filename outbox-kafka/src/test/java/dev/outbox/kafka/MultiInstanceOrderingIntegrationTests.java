package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.kafka.multi.KeySequences;
import dev.outbox.kafka.multi.OutboxWriters;
import dev.outbox.kafka.multi.RelayProcess;
import dev.outbox.kafka.multi.TopicTail;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guarantees 4 and 5 with three relay instances as separate JVMs ({@code StandaloneRelay}), each
 * with the core relay, the PostgreSQL store and the Kafka transport, sharing one outbox table and
 * one real broker — as three instances of a service would.
 *
 * <p>Writer threads commit events of many keys while the three relays drain the table; each key has
 * a single writer, so its events commit in sequence order, and each event carries its per-key
 * sequence number. A plain consumer then reads the topic and checks, per key, that the sequence
 * numbers arrive strictly increasing without gaps (redeliveries only as repeats of the same id),
 * that every committed event arrived, and that all three instances published.
 *
 * <p>Why this fails without per-key coordination between relays: with row locks alone ({@code FOR
 * UPDATE SKIP LOCKED} on events), relay A claims the oldest batch and relay B, skipping A's locked
 * rows, claims the next one. Consecutive events of a key land in different batches, so A holds
 * event n of key K while B holds n+1; both send at once, and whichever producer reaches the broker
 * first decides the order in the partition. Relays poll every 50 ms with batches of 25 while 4,000
 * events are written, so there are thousands of such pairs per run and the check sees n+1 before n.
 * Run against the store as it was before per-key claim locks (row locks only), each of three
 * repetitions failed, with 8, 50 and 25 keys out of order. With per-key locks a key's events are
 * claimed only by the relay holding the key, and only after the previous holder's batch completed.
 */
class MultiInstanceOrderingIntegrationTests {

  private static final Logger log =
      LoggerFactory.getLogger(MultiInstanceOrderingIntegrationTests.class);

  private static final int RELAYS = 3;
  private static final int WRITERS = 4;
  private static final int KEYS = 100;
  private static final int EVENTS_PER_KEY = 40;
  private static final int BATCH_SIZE = 25;

  private static TestKafka kafka;
  private static String schema;
  private static final List<RelayProcess> relays = new ArrayList<>();
  private static final List<String> names = new ArrayList<>();

  private TopicTail tail;

  /**
   * One broker, one outbox table and three relay processes for all repetitions; each repetition
   * writes to a topic of its own. Starting the JVMs once keeps the repetitions within budget.
   */
  @BeforeAll
  static void startBrokerAndRelays() {
    kafka = TestKafka.start();
    kafka.createTopics(RelayProcess.WARM_UP_TOPIC);
    schema = OutboxWriters.createOutboxSchema("multi");
    String run = UUID.randomUUID().toString().substring(0, 8);
    for (int i = 1; i <= RELAYS; i++) {
      names.add("relay-" + i + "-" + run);
    }
    relays.addAll(RelayProcess.startAll(names, schema, kafka.bootstrapServers(), BATCH_SIZE));
  }

  @AfterAll
  static void stopEverything() {
    try {
      relays.forEach(RelayProcess::close);
    } finally {
      if (kafka != null) {
        kafka.close();
      }
      if (schema != null) {
        TestPostgres.get().dropSchema(schema);
      }
    }
  }

  @AfterEach
  void stopConsumer() {
    if (tail != null) {
      tail.close();
    }
  }

  @RepeatedTest(3)
  void threeRelaysKeepEveryKeysOrderAndShareTheWork() throws Exception {
    String topic = kafka.newTopic("multi");
    tail = TopicTail.start(kafka.bootstrapServers(), topic);

    long started = System.nanoTime();
    KeySequences sequences = new KeySequences();
    OutboxWriters writers = OutboxWriters.on(schema, sequences);
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        done.add(
            pool.submit(
                () -> {
                  try (Connection connection = OutboxWriters.connect()) {
                    for (int round = 0; round < EVENTS_PER_KEY; round++) {
                      for (int k = writer; k < KEYS; k += WRITERS) {
                        writers.writeNext(connection, topic, "key-" + k);
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> future : done) {
        future.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(sequences.total()).isEqualTo(KEYS * EVENTS_PER_KEY);
    long writtenAt = System.nanoTime();

    Set<UUID> written = Set.copyOf(sequences.allIds());
    await("every committed event consumed")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> readIds(tail).containsAll(written));

    long drainedAt = System.nanoTime();
    List<TopicTail.Received> received = tail.received();
    KeySequences.Result result = sequences.check(received);
    Map<String, Long> bySource =
        received.stream()
            .collect(Collectors.groupingBy(TopicTail.Received::source, Collectors.counting()));
    log.info(
        "{} events written in {} ms, all read {} ms later; {} records read, {} redeliveries, per"
            + " relay {}",
        written.size(),
        (writtenAt - started) / 1_000_000,
        (drainedAt - writtenAt) / 1_000_000,
        received.size(),
        result.duplicates(),
        bySource);
    assertThat(result.violations()).as("per-key order violations").isEmpty();
    assertThat(result.missing()).as("events never read").isZero();
    assertThat(bySource.keySet())
        .as("instances that published")
        .containsExactlyInAnyOrderElementsOf(names);
    assertThat(relays).allMatch(RelayProcess::isAlive, "still running");
  }

  private static Set<UUID> readIds(TopicTail tail) {
    return tail.received().stream()
        .map(TopicTail.Received::id)
        .collect(Collectors.toCollection(HashSet::new));
  }
}
