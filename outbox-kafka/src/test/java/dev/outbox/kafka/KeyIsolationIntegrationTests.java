package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.kafka.multi.KeySequences;
import dev.outbox.kafka.multi.OutboxWriters;
import dev.outbox.kafka.multi.TopicTail;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guarantee 4, second half: one stuck key must not stall the others. The core relay runs in this
 * JVM on the PostgreSQL store and the real Kafka transport, wrapped so that one destination fails
 * every send (a retryable failure, as a broker rejecting that topic would) until the test lets it
 * through. Key {@code stuck} writes its first event to that destination and four more to the shared
 * topic; 20 other keys write a steady stream to the shared topic meanwhile.
 *
 * <p>The test requires every event of the other keys to be published while the stuck event is still
 * failing (each round waits for that, and for the stuck event to have failed again), so a stall of
 * the other keys behind the stuck one would never let the test proceed; and it requires the stuck
 * key's later events to wait until its first one is through, then follow in order. The other keys'
 * commit-to-published latency is measured and logged, not asserted: wall-clock figures belong to
 * the benchmarks.
 */
class KeyIsolationIntegrationTests {

  private static final Logger log = LoggerFactory.getLogger(KeyIsolationIntegrationTests.class);

  private static final int OTHER_KEYS = 20;
  private static final int ROUNDS = 20;

  private static TestKafka kafka;
  private String schema;
  private KafkaOutboxTransport kafkaTransport;
  private OutboxRelay relay;
  private com.zaxxer.hikari.HikariDataSource pool;
  private TopicTail tail;

  @BeforeAll
  static void startBroker() {
    kafka = TestKafka.start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @AfterEach
  void stopEverything() {
    try {
      if (relay != null) {
        relay.close();
      }
      if (kafkaTransport != null) {
        kafkaTransport.close();
      }
      if (pool != null) {
        pool.close();
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

  /**
   * The relay borrows a connection for each of its short statements, as from the application's
   * pool; an unpooled data source would add a new database session to each of them.
   */
  private com.zaxxer.hikari.HikariDataSource pool() {
    pool = new com.zaxxer.hikari.HikariDataSource();
    pool.setJdbcUrl(TestPostgres.get().url());
    pool.setUsername(TestPostgres.get().user());
    pool.setPassword(TestPostgres.get().password());
    pool.setMaximumPoolSize(5);
    return pool;
  }

  @RepeatedTest(2)
  void aKeyWhoseEventKeepsFailingDoesNotDelayTheOtherKeys() throws Exception {
    String topic = kafka.newTopic("isolation");
    String unreachable = kafka.newTopic("isolation-unreachable");
    schema = OutboxWriters.createOutboxSchema("isolation");
    kafkaTransport =
        KafkaOutboxTransport.create(kafka.producerConfig(), KafkaTransportOptions.defaults());
    FailingDestination transport = new FailingDestination(kafkaTransport, unreachable);
    Map<UUID, Long> publishedAt = new ConcurrentHashMap<>();
    Map<UUID, Long> publishOrder = new ConcurrentHashMap<>();
    AtomicLong order = new AtomicLong();
    relay =
        OutboxRelay.builder()
            .repository(new PostgresOutboxRepository(pool(), TableName.of(schema, "outbox_event")))
            .transport(transport)
            .retryPolicy(
                RetryPolicy.defaults()
                    .withInitialBackoff(Duration.ofMillis(200))
                    .withMaxBackoff(Duration.ofMillis(400))
                    .withMaxAttempts(1000))
            .pollInterval(Duration.ofMillis(100))
            .listener(
                new RelayListener() {
                  @Override
                  public void published(OutboxEvent event, Duration sinceWrite) {
                    publishedAt.put(event.id(), System.nanoTime());
                    publishOrder.put(event.id(), order.incrementAndGet());
                  }
                })
            .build();
    relay.start();
    tail = TopicTail.start(kafka.bootstrapServers(), topic);

    KeySequences sequences = new KeySequences();
    OutboxWriters writers = OutboxWriters.on(schema, sequences);
    Map<UUID, Long> committedAt = new ConcurrentHashMap<>();
    List<UUID> stuck = new ArrayList<>();
    List<UUID> others = new ArrayList<>();
    try (Connection connection = OutboxWriters.connect()) {
      stuck.add(writers.writeNext(connection, unreachable, "stuck"));
      relay.wakeUp();
      for (int round = 0; round < ROUNDS; round++) {
        if (round < 4) {
          stuck.add(writers.writeNext(connection, topic, "stuck"));
        }
        for (int k = 0; k < OTHER_KEYS; k++) {
          UUID id = writers.writeNext(connection, topic, "key-" + k);
          committedAt.put(id, System.nanoTime());
          others.add(id);
          relay.wakeUp();
        }
        // Spread the rounds over the retries of the stuck event: a round starts once the previous
        // round's events are published and the stuck event has failed again every fourth round.
        long failed = 1 + round / 4;
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(10))
            .until(
                () -> transport.failures() >= failed && publishedAt.keySet().containsAll(others));
      }
    }

    long failuresWhileStuck = transport.failures();
    java.util.Set<UUID> publishedWhileStuck = java.util.Set.copyOf(publishedAt.keySet());
    assertThat(stuck).noneMatch(publishedAt::containsKey);
    List<Long> latencies =
        others.stream()
            .map(id -> (publishedAt.get(id) - committedAt.get(id)) / 1_000_000)
            .sorted()
            .toList();
    long p50 = latencies.get(latencies.size() / 2);
    long p99 = latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1);
    long max = latencies.get(latencies.size() - 1);

    transport.letThrough();
    await("the stuck key's events published once its first event goes through")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> publishedAt.keySet().containsAll(stuck));
    await("every event on the topic")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> tail.received().size() >= others.size() + stuck.size() - 1);

    log.info(
        "Other keys' commit-to-published latency while key 'stuck' failed {} times: p50 {} ms,"
            + " p99 {} ms, max {} ms over {} events",
        failuresWhileStuck,
        p50,
        p99,
        max,
        latencies.size());
    assertThat(failuresWhileStuck)
        .as("attempts of the stuck event while the others were measured")
        .isGreaterThanOrEqualTo(3);
    assertThat(others)
        .as("other keys published while the stuck event was still failing")
        .allMatch(publishedWhileStuck::contains);
    assertThat(stuck.stream().map(publishOrder::get).toList())
        .as("the stuck key's events in write order")
        .isSorted();
    List<TopicTail.Received> onTopic =
        tail.received().stream().filter(r -> r.key().equals("stuck")).toList();
    assertThat(onTopic)
        .extracting(TopicTail.Received::id)
        .containsExactlyElementsOf(stuck.subList(1, stuck.size()));
  }

  /** The Kafka transport, except that sends to one topic fail until {@link #letThrough()}. */
  private static final class FailingDestination implements OutboxTransport {

    private final OutboxTransport delegate;
    private final String destination;
    private final AtomicBoolean failing = new AtomicBoolean(true);
    private final AtomicLong failures = new AtomicLong();

    FailingDestination(OutboxTransport delegate, String destination) {
      this.delegate = delegate;
      this.destination = destination;
    }

    void letThrough() {
      failing.set(false);
    }

    long failures() {
      return failures.get();
    }

    @Override
    public CompletableFuture<?> send(OutboxEvent event) {
      if (failing.get() && event.destination().equals(destination)) {
        failures.incrementAndGet();
        return CompletableFuture.failedFuture(new DestinationRejected(destination));
      }
      return delegate.send(event);
    }

    @Override
    public void flush() {
      delegate.flush();
    }

    @Override
    public java.time.Duration maxBlock() {
      return delegate.maxBlock();
    }

    @Override
    public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
      return delegate.sendToDeadLetter(event, deadLetter);
    }

    @Override
    public boolean isRetryable(Throwable failure) {
      return failure instanceof DestinationRejected || delegate.isRetryable(failure);
    }

    @Override
    public boolean isBrokerUnavailable(Throwable failure) {
      return !(failure instanceof DestinationRejected) && delegate.isBrokerUnavailable(failure);
    }

    @Override
    public String deadLetterDestination(OutboxEvent event) {
      return delegate.deadLetterDestination(event);
    }
  }

  /** The broker refusing one topic for now; retryable. */
  private static final class DestinationRejected extends RuntimeException {
    DestinationRejected(String destination) {
      super("topic " + destination + " rejects writes for now");
    }
  }
}
