package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.kafka.multi.KeySequences;
import dev.outbox.kafka.multi.OutboxWriters;
import dev.outbox.kafka.multi.RelayProcess;
import dev.outbox.kafka.multi.TopicTail;
import dev.outbox.kafka.multi.WriterLoad;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay JVM frozen with SIGSTOP longer than its lease, then resumed with SIGCONT, while writers
 * keep committing events of 20 keys and another relay runs. A frozen relay keeps its database
 * sessions, so only the lease's expiry ({@code lease-timeout}, 10 s) lets the other relay take its
 * slots. After the resume, whatever the frozen relay was doing (a batch half sent, acknowledgements
 * pending, completions not yet recorded) must neither lose an event nor publish a key's events out
 * of order for a consumer that de-duplicates by id: the check reads every record of the topic and
 * requires each key's first occurrences in write order, redeliveries only as repeats of the same
 * id, and every committed event.
 */
class RelayFreezeIntegrationTests {

  private static final Logger log = LoggerFactory.getLogger(RelayFreezeIntegrationTests.class);

  private static final int WRITERS = 2;
  private static final int KEYS = 20;
  private static final int BATCH_SIZE = 20;
  private static final Duration WRITE_INTERVAL = Duration.ofMillis(10);

  /** The frozen relay's lease must run out before the other relay may take its slots. */
  private static final Duration LEASE = OutboxDefaults.LEASE_TIMEOUT;

  private static TestKafka kafka;

  private final List<RelayProcess> relays = new ArrayList<>();
  private String schema;
  private TopicTail tail;
  private WriterLoad load;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
    kafka.createTopics(RelayProcess.WARM_UP_TOPIC);
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      if (load != null) {
        load.close();
      }
      for (RelayProcess relay : relays) {
        relay.resume(); // a frozen process cannot be killed cleanly on every platform
        relay.close();
      }
      if (tail != null) {
        tail.close();
      }
    } finally {
      if (schema != null) {
        TestPostgres.get().dropSchema(schema);
      }
    }
  }

  @Test
  void aRelayFrozenPastItsLeaseThenResumedLosesNothingAndKeepsEachKeysOrder() throws Exception {
    schema = OutboxWriters.createOutboxSchema("freeze");
    String topic = kafka.newTopic("freeze");
    String run = UUID.randomUUID().toString().substring(0, 8);
    relays.addAll(
        RelayProcess.startAll(
            List.of("frozen-" + run, "other-" + run),
            schema,
            kafka.bootstrapServers(),
            BATCH_SIZE));
    RelayProcess frozen = relays.get(0);
    RelayProcess other = relays.get(1);
    tail = TopicTail.start(kafka.bootstrapServers(), topic);

    KeySequences sequences = new KeySequences();
    OutboxWriters outbox = OutboxWriters.on(schema, sequences);
    load = WriterLoad.start(outbox, topic, WRITERS, KEYS, WRITE_INTERVAL);

    await("both relays publishing")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> published(frozen.name()) >= 50 && published(other.name()) >= 50);
    frozen.freeze();
    long frozenAt = System.currentTimeMillis();

    Set<String> allKeys = new HashSet<>();
    for (int k = 0; k < KEYS; k++) {
      allKeys.add("key-" + k);
    }
    // Every key, the frozen relay's included, continues on the other relay once the lease ran out.
    await("every key published by the other relay after the freeze")
        .atMost(LEASE.plusSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> keysPublishedAfter(other.name(), frozenAt).containsAll(allKeys));
    long takenOverAt = System.currentTimeMillis();
    frozen.resume();
    long resumedAt = System.currentTimeMillis();

    // The resumed relay renews, rejoins and takes part again while the writers go on.
    await("the resumed relay publishing again")
        .atMost(LEASE.plusSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !keysPublishedAfter(frozen.name(), resumedAt + 2_000).isEmpty());
    assertThat(load.stop()).as("writers ended").isTrue();
    assertThat(load.failure()).as("writer failure").isNull();

    Set<UUID> written = Set.copyOf(sequences.allIds());
    await("every committed event consumed")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                tail.received().stream()
                    .map(TopicTail.Received::id)
                    .collect(Collectors.toCollection(HashSet::new))
                    .containsAll(written));

    List<TopicTail.Received> received = tail.received();
    KeySequences.Result result = sequences.check(received);
    log.info(
        "Froze {} for {} ms; all keys on {} {} ms after the freeze; {} events written, {} records"
            + " read, {} redeliveries",
        frozen.name(),
        resumedAt - frozenAt,
        other.name(),
        takenOverAt - frozenAt,
        written.size(),
        received.size(),
        result.duplicates());
    assertThat(result.violations()).as("per-key order and id violations").isEmpty();
    assertThat(result.missing()).as("committed events never read").isZero();
  }

  private long published(String source) {
    return tail.received().stream().filter(r -> r.source().equals(source)).count();
  }

  /** Keys {@code source} published a record of after {@code time}. */
  private Set<String> keysPublishedAfter(String source, long time) {
    return tail.received().stream()
        .filter(r -> r.source().equals(source) && r.timestamp() > time)
        .map(TopicTail.Received::key)
        .collect(Collectors.toSet());
  }
}
