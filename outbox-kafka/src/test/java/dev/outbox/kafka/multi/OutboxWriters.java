package dev.outbox.kafka.multi;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The writing side of the multi-instance tests: business transactions that each append one event
 * through the core writer on a connection of their own, and record what committed.
 */
public final class OutboxWriters {

  private final OutboxWriter writer;
  private final KeySequences sequences;

  private OutboxWriters(OutboxWriter writer, KeySequences sequences) {
    this.writer = writer;
    this.sequences = sequences;
  }

  /** Creates the outbox table in a fresh schema and returns the schema's name. */
  public static String createOutboxSchema(String prefix) {
    String schema = TestPostgres.get().createSchema(prefix);
    OutboxSchema.create(TestPostgres.get().dataSource(), TableName.of(schema, "outbox_event"));
    return schema;
  }

  public static OutboxWriters on(String schema, KeySequences sequences) {
    PostgresOutboxRepository repository =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(), TableName.of(schema, "outbox_event"));
    return new OutboxWriters(
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC()),
        sequences);
  }

  /**
   * A connection for one writer thread, not in auto-commit mode. Its commits do not wait for the
   * WAL flush ({@code synchronous_commit=off}): what these tests are about is visibility and order,
   * which that setting does not change, and it lets a 2-core machine write thousands of events in a
   * second or two.
   */
  public static Connection connect() {
    try {
      Connection connection = TestPostgres.get().connect();
      try (java.sql.Statement statement = connection.createStatement()) {
        statement.execute("SET synchronous_commit = off");
      }
      connection.setAutoCommit(false);
      return connection;
    } catch (SQLException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /**
   * Writes and commits the next event of {@code key} to {@code topic}; the calling thread must be
   * the key's only writer. Returns the event id.
   */
  public UUID writeNext(Connection connection, String topic, String key) {
    int seq = sequences.next(key);
    try {
      UUID id =
          writer
              .write(
                  connection,
                  List.of(
                      new OutboxMessage(
                          topic, key, null, KeySequences.payload(key, seq), Map.of())))
              .get(0);
      connection.commit();
      sequences.committed(key, seq, id);
      return id;
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not commit event " + seq + " of " + key, ex);
    }
  }
}
