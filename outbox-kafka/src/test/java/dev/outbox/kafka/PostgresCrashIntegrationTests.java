package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.kafka.multi.KeySequences;
import dev.outbox.kafka.multi.TopicTail;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;

/**
 * Guarantees 1, 2 and 4 across a crash of PostgreSQL itself: every process of the server is killed
 * with SIGKILL while the relay drains a backlog and a writer commits events one by one, and the
 * server is started again on the same data. The relay's deletions of published rows do not wait for
 * the WAL flush, so the crash may undo the last of them; the writer's commits do wait for it.
 *
 * <p>The test requires that every event whose commit returned before the crash reaches the topic
 * (none is lost with the server's WAL buffers), each key's events in order, a row whose deletion
 * the crash undid only as a repeat of the same id, the relay back to healthy on its own and the
 * table empty at the end.
 */
class PostgresCrashIntegrationTests {

  private static final Logger log = LoggerFactory.getLogger(PostgresCrashIntegrationTests.class);

  private static final int KEYS = 30;
  private static final int BACKLOG = 20_000;
  private static final int EVENTS_PER_BACKLOG_TRANSACTION = 200;
  private static final int BATCH_SIZE = 100;

  /** The relay's longest pause between attempts while the database is away. */
  private static final Duration MAX_ERROR_BACKOFF = Duration.ofMillis(500);

  /** The bound of a drain of the whole backlog on a loaded 2-core machine. */
  private static final Duration DRAIN_BOUND = Duration.ofSeconds(120);

  private static TestKafka kafka;

  private final TableName table = TableName.of("public", "outbox_event");
  private final KeySequences sequences = new KeySequences();
  private final int[] next = new int[KEYS];
  private CrashablePostgres postgres;
  private HikariDataSource pool;
  private KafkaOutboxTransport transport;
  private OutboxRelay relay;
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
  void stopEverything() throws Exception {
    try {
      if (relay != null) {
        relay.close();
      }
      if (transport != null) {
        transport.close();
      }
      if (tail != null) {
        tail.close();
      }
      if (pool != null) {
        pool.close();
      }
    } finally {
      if (postgres != null) {
        postgres.close();
      }
    }
  }

  @Test
  void aCrashOfPostgresqlLosesNoCommittedEventAndTheRelayResumesInKeyOrder() throws Exception {
    postgres = CrashablePostgres.start(Path.of("target"));
    OutboxSchema.create(postgres.dataSource(), table);
    OutboxWriter writer =
        new OutboxWriter(
            new PostgresOutboxRepository(postgres.dataSource(), table),
            Object::toString,
            HeaderCapture.none(),
            Clock.systemUTC());
    String topic = kafka.newTopic("pg-crash");
    try (Connection connection = writerConnection()) {
      for (int written = 0; written < BACKLOG; written += EVENTS_PER_BACKLOG_TRANSACTION) {
        commit(writer, connection, topic, EVENTS_PER_BACKLOG_TRANSACTION);
      }
    }

    tail = TopicTail.start(kafka.bootstrapServers(), topic);
    startRelay();
    int receivedAtCrash;
    int committedAtCrash;
    try (Connection connection = writerConnection()) {
      // One event per transaction, each commit waiting for the WAL flush, until the relay has sent
      // 30 % of the backlog; then the crash, right after a commit returned and before the relay
      // reached the events written meanwhile (they are behind the backlog in every key).
      long deadline = System.nanoTime() + DRAIN_BOUND.toNanos();
      while (tail.received().size() < BACKLOG * 3 / 10) {
        assertThat(System.nanoTime())
            .as("the relay sending 30 % of the backlog")
            .isLessThan(deadline);
        commit(writer, connection, topic, 1);
      }
      receivedAtCrash = tail.received().size();
      committedAtCrash = sequences.total();
      postgres.crash();
    }
    log.info(
        "PostgreSQL crashed after {} events committed ({} one by one) and {} records read",
        committedAtCrash,
        committedAtCrash - BACKLOG,
        receivedAtCrash);
    await("the relay reporting the database failure")
        .atMost(relayReactionBound())
        .pollInterval(Duration.ofMillis(20))
        .until(() -> !relay.isHealthy());

    postgres.restart();
    long pendingAfterRestart = pendingRows();
    await("the outbox table empty")
        .atMost(DRAIN_BOUND)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> pendingRows() == 0);
    await("the consumer at the end of the topic")
        .atMost(DRAIN_BOUND)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> tail.received().size() >= kafka.records(topic));
    await("the relay healthy again").atMost(relayReactionBound()).until(relay::isHealthy);

    KeySequences.Result result = sequences.check(tail.received());
    log.info(
        "After the restart {} rows were pending of {} committed and {} read before the crash;"
            + " {} records read in all, {} repeats of an id already read",
        pendingAfterRestart,
        committedAtCrash,
        receivedAtCrash,
        tail.received().size(),
        result.duplicates());
    assertThat(result.missing()).as("committed events never read").isZero();
    assertThat(result.violations()).as("per-key order and id violations").isEmpty();
  }

  /**
   * The relay's next statement runs within a poll interval or an error backoff, so it notices the
   * crash, and the server back, within that; the processes' bound is the slack of a loaded machine.
   */
  private static Duration relayReactionBound() {
    return MAX_ERROR_BACKOFF.plus(CrashablePostgres.PROCESS_BOUND);
  }

  private void startRelay() {
    pool = new HikariDataSource();
    pool.setJdbcUrl(postgres.jdbcUrl());
    pool.setUsername("postgres");
    pool.setMaximumPoolSize(4);
    pool.setPoolName("pg-crash-relay");
    transport =
        KafkaOutboxTransport.create(
            new DefaultKafkaProducerFactory<>(kafka.producerConfig()),
            KafkaTransportOptions.defaults());
    relay =
        OutboxRelay.builder()
            .repository(new PostgresOutboxRepository(pool, table))
            .transport(transport)
            .batchSize(BATCH_SIZE)
            .pollInterval(Duration.ofMillis(50))
            .maxErrorBackoff(MAX_ERROR_BACKOFF)
            .name("pg-crash")
            .build();
    relay.start();
  }

  private Connection writerConnection() throws SQLException {
    Connection connection = postgres.dataSource().getConnection();
    connection.setAutoCommit(false);
    return connection;
  }

  /** Commits the next {@code events} events, key after key, then records them as committed. */
  private void commit(OutboxWriter writer, Connection connection, String topic, int events)
      throws SQLException {
    List<OutboxMessage> messages = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<Integer> seqs = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      int k = (sequences.total() + i) % KEYS;
      String key = "key-" + k;
      int seq = ++next[k];
      messages.add(new OutboxMessage(topic, key, null, KeySequences.payload(key, seq), Map.of()));
      keys.add(key);
      seqs.add(seq);
    }
    List<UUID> ids = writer.write(connection, messages);
    connection.commit();
    for (int i = 0; i < events; i++) {
      sequences.committed(keys.get(i), seqs.get(i), ids.get(i));
    }
  }

  private long pendingRows() throws SQLException {
    try (Connection connection = postgres.dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT count(*) FROM " + table)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
