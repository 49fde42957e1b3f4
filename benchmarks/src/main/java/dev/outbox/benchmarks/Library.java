package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.HeaderCapture;
import dev.outbox.OutboxException;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.PayloadSerializer;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.PostgresWakeups;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The library wired as a plain-Java service would: one pool, the writer on the business
 * transaction's connection, the relay with its defaults, woken in-process after each commit as the
 * Spring starter does.
 */
final class Library implements AutoCloseable {

  static final String UPDATE_ACCOUNT =
      "UPDATE account SET balance = balance + 1, updated_at = now() WHERE id = ?";

  final HikariDataSource pool;
  final PostgresOutboxRepository repository;
  final TimedRepository timed;
  final OutboxWriter writer;
  final KafkaOutboxTransport transport;
  final OutboxRelay relay;
  final PostgresWakeups wakeups;

  /**
   * @param poolSize connections for the business transactions; the relay's workers and the wake-up
   *     connections get theirs on top
   */
  Library(Settings settings, int poolSize, Timeline timeline) {
    pool = Db.pool(settings, "bench", poolSize + OutboxDefaults.WORKERS + 3);
    AtomicReference<OutboxRelay> self = new AtomicReference<>();
    // Wired as the Spring starter wires it: other instances are woken through LISTEN/NOTIFY
    // outside the business transaction, the local relay in-process after commit.
    wakeups = new PostgresWakeups(pool, Db.OUTBOX, () -> self.get().wakeUp());
    repository = new PostgresOutboxRepository(pool, Db.OUTBOX);
    timed = new TimedRepository(repository);
    writer = new OutboxWriter(repository, serializer(), HeaderCapture.none(), Clock.systemUTC());
    transport = Brokers.kafkaTransport(settings);
    relay =
        OutboxRelay.builder()
            .repository(timed)
            .transport(new AckingTransport(transport, timeline))
            .onBacklog(wakeups::signal)
            .name("bench-relay")
            .build();
    self.set(relay);
    wakeups.start(true);
  }

  static PayloadSerializer serializer() {
    JsonMapper mapper = JsonMapper.builder().build();
    return payload -> {
      try {
        return mapper.writeValueAsString(payload);
      } catch (RuntimeException ex) {
        throw new OutboxException("Cannot serialize " + payload.getClass().getName(), ex);
      }
    };
  }

  static List<OutboxMessage> messages(String topic, long first, int count, int keys) {
    List<OutboxMessage> messages = new ArrayList<>(count);
    for (long n = first; n < first + count; n++) {
      messages.add(
          OutboxMessage.of(topic, OrderEvent.key(n, keys), OrderEvent.of(n, keys))
              .withAggregateType("Order"));
    }
    return messages;
  }

  /**
   * One business transaction: updates an account row and writes {@code count} events numbered from
   * {@code first}; returns the instant of the commit.
   */
  long businessTransaction(String topic, long first, int count, int keys) {
    try (Connection connection = pool.getConnection()) {
      connection.setAutoCommit(false);
      try (PreparedStatement update = connection.prepareStatement(UPDATE_ACCOUNT)) {
        update.setLong(1, first % Db.ACCOUNTS);
        update.executeUpdate();
      }
      writer.write(connection, messages(topic, first, count, keys));
      connection.commit();
      long committed = System.nanoTime();
      relay.wakeUp();
      return committed;
    } catch (SQLException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /**
   * Runs {@code count} business transactions whose events are not recorded and waits until the
   * relay has published them: connections, the producer and the JIT are warm when measuring starts.
   */
  void warmUp(String topic, int count) {
    for (int i = 0; i < count; i++) {
      businessTransaction(topic, Timeline.WARM_UP_FROM + i, 1, 10_000);
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline && Db.anyPending(pool)) {
      LatencyCase.sleep(50);
    }
    LatencyCase.sleep(500);
  }

  @Override
  public void close() {
    relay.stop(Duration.ofSeconds(10));
    relay.close();
    wakeups.close();
    transport.close();
    pool.close();
  }
}
