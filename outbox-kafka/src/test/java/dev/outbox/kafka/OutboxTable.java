package dev.outbox.kafka;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.BrokerUnavailableException;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** An outbox table in a schema of its own on the test PostgreSQL, with a writer and relays. */
final class OutboxTable implements AutoCloseable {

  final String schema;
  final PostgresOutboxRepository repository;
  private final OutboxWriter writer;

  OutboxTable(String prefix) {
    schema = TestPostgres.get().createSchema(prefix);
    TableName table = TableName.of(schema, "outbox_event");
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    writer =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
  }

  List<UUID> write(List<OutboxMessage> messages) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      return writer.write(connection, messages);
    }
  }

  long pending() {
    return repository.stats().pending();
  }

  long dead() {
    return repository.stats().dead();
  }

  /** The most attempts any row was charged. */
  long maxAttempts() {
    return TestPostgres.get()
        .queryLong("SELECT coalesce(max(attempts), 0) FROM " + schema + ".outbox_event");
  }

  long attempts(UUID id) {
    return TestPostgres.get()
        .queryLong("SELECT attempts FROM " + schema + ".outbox_event WHERE id = '" + id + "'");
  }

  /** A relay as the tests run it: short poll interval and error backoff, two workers. */
  OutboxRelay relay(OutboxTransport transport, RetryPolicy retryPolicy, RelayListener listener) {
    return OutboxRelay.builder()
        .repository(repository)
        .transport(transport)
        .retryPolicy(retryPolicy)
        .listener(listener)
        .batchSize(500)
        .pollInterval(Duration.ofMillis(50))
        .publishTimeout(Duration.ofSeconds(10))
        .maxErrorBackoff(Duration.ofSeconds(1))
        .build();
  }

  @Override
  public void close() {
    TestPostgres.get().dropSchema(schema);
  }

  /** Counts the relay's cycles that found the broker unavailable. */
  static final class OutageCycles implements RelayListener {
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger retried = new AtomicInteger();
    private final Map<UUID, Integer> published = new ConcurrentHashMap<>();

    private volatile String lastFailure = "";

    @Override
    public void cycleFailed(Throwable failure) {
      if (failure instanceof BrokerUnavailableException) {
        lastFailure = Failures.describe(failure);
        count.incrementAndGet();
      }
    }

    /** The last broker-unavailable failure, described as the relay's health does. */
    String lastFailure() {
      return lastFailure;
    }

    @Override
    public void retried(OutboxEvent event, Throwable failure) {
      retried.incrementAndGet();
    }

    @Override
    public void published(OutboxEvent event, Duration sinceWrite) {
      published.merge(event.id(), 1, Integer::sum);
    }

    int count() {
      return count.get();
    }

    int retried() {
      return retried.get();
    }

    /** How often each event was recorded as published. */
    Map<UUID, Integer> published() {
      return Map.copyOf(published);
    }
  }
}
