package dev.outbox.store;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The outbox table on PostgreSQL.
 *
 * <p>Writes take a transaction-scoped advisory lock per key before inserting, so two transactions
 * writing the same key are serialized and the sequence order of a key's events is its commit order.
 * Claims use {@code FOR UPDATE SKIP LOCKED} and hold the rows until the batch is completed.
 * Published rows are deleted, so the table holds only pending and dead events.
 */
public final class PostgresOutboxRepository implements OutboxRepository {

  static final String COLUMNS =
      "id, seq, destination, event_key, aggregate_type, event_type, event_version, payload,"
          + " headers::text, created_at, attempts";

  private final DataSource dataSource;
  private final TableName table;
  private final int lockClass;
  private final String insertKeyed;
  private final String insertUnkeyed;
  private final String claim;
  private final String delete;
  private final String retry;
  private final String dead;

  public PostgresOutboxRepository(DataSource dataSource, TableName table) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.table = Objects.requireNonNull(table, "table");
    String t = table.qualified();
    this.lockClass = ("dev.outbox:" + t).hashCode();
    String insertColumns =
        "INSERT INTO "
            + t
            + " (id, destination, event_key, aggregate_type, event_type, event_version, payload,"
            + " headers, created_at) ";
    this.insertKeyed =
        insertColumns
            + "SELECT ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ? FROM (SELECT pg_advisory_xact_lock(?,"
            + " hashtext(?))) AS key_lock";
    this.insertUnkeyed = insertColumns + "VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)";
    this.claim =
        "SELECT "
            + COLUMNS
            + " FROM "
            + t
            + " e WHERE e.status = 'PENDING' AND e.available_at <= now()"
            + " AND (e.event_key IS NULL OR NOT EXISTS (SELECT 1 FROM "
            + t
            + " b WHERE b.status = 'PENDING' AND b.attempts > 0 AND b.event_key = e.event_key"
            + " AND b.seq < e.seq AND b.available_at > now()))"
            + " ORDER BY e.seq LIMIT ? FOR UPDATE SKIP LOCKED";
    this.delete = "DELETE FROM " + t + " WHERE id = ANY(?)";
    this.retry =
        "UPDATE "
            + t
            + " e SET attempts = u.attempts, last_error = u.error, last_attempt_at ="
            + " clock_timestamp(), available_at = clock_timestamp() + u.delay_ms * interval '1"
            + " millisecond' FROM unnest(?::uuid[], ?::int[], ?::bigint[], ?::text[]) AS u(id,"
            + " attempts, delay_ms, error) WHERE e.id = u.id";
    this.dead =
        "UPDATE "
            + t
            + " e SET status = 'DEAD', attempts = u.attempts, last_error = u.error,"
            + " last_attempt_at = clock_timestamp() FROM unnest(?::uuid[], ?::int[], ?::text[]) AS"
            + " u(id, attempts, error) WHERE e.id = u.id";
  }

  public TableName table() {
    return table;
  }

  @Override
  public void append(Connection connection, List<OutboxEvent> events) {
    try {
      PreparedStatement keyed = null;
      PreparedStatement unkeyed = null;
      try {
        for (OutboxEvent event : events) {
          PreparedStatement statement;
          if (event.key() != null) {
            if (keyed == null) {
              keyed = connection.prepareStatement(insertKeyed);
            }
            statement = keyed;
            statement.setInt(10, lockClass);
            statement.setString(11, event.key());
          } else {
            if (unkeyed == null) {
              unkeyed = connection.prepareStatement(insertUnkeyed);
            }
            statement = unkeyed;
          }
          bindInsert(statement, event);
          statement.addBatch();
        }
        execute(keyed);
        execute(unkeyed);
      } finally {
        closeQuietly(keyed);
        closeQuietly(unkeyed);
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not write " + events.size() + " event(s) to " + table + ": " + ex.getMessage(),
          ex);
    }
  }

  private static void bindInsert(PreparedStatement statement, OutboxEvent event)
      throws SQLException {
    statement.setObject(1, event.id());
    statement.setString(2, event.destination());
    statement.setString(3, event.key());
    statement.setString(4, event.aggregateType());
    statement.setString(5, event.type());
    statement.setInt(6, event.version());
    statement.setString(7, event.payload());
    statement.setString(8, HeadersJson.encode(event.headers()));
    statement.setTimestamp(9, Timestamp.from(event.createdAt()));
  }

  private static void execute(PreparedStatement statement) throws SQLException {
    if (statement == null) {
      return;
    }
    statement.executeBatch();
  }

  @Override
  public Claim claim(int limit) {
    Connection connection = null;
    try {
      connection = dataSource.getConnection();
      connection.setAutoCommit(false);
      List<OutboxEvent> events = new ArrayList<>(Math.min(limit, 1024));
      try (PreparedStatement statement = connection.prepareStatement(claim)) {
        statement.setInt(1, limit);
        try (ResultSet rs = statement.executeQuery()) {
          while (rs.next()) {
            events.add(readEvent(rs));
          }
        }
      }
      return new PostgresClaim(connection, events);
    } catch (SQLException | RuntimeException ex) {
      if (connection != null) {
        rollbackAndClose(connection);
      }
      throw new OutboxException(
          "Could not claim events from " + table + ": " + ex.getMessage(), ex);
    }
  }

  static OutboxEvent readEvent(ResultSet rs) throws SQLException {
    return new OutboxEvent(
        rs.getObject(1, UUID.class),
        rs.getLong(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getInt(7),
        rs.getString(8),
        HeadersJson.decode(rs.getString(9)),
        rs.getTimestamp(10).toInstant(),
        rs.getInt(11));
  }

  private final class PostgresClaim implements Claim {
    private final Connection connection;
    private final List<OutboxEvent> events;
    private boolean done;

    PostgresClaim(Connection connection, List<OutboxEvent> events) {
      this.connection = connection;
      this.events = List.copyOf(events);
    }

    @Override
    public List<OutboxEvent> events() {
      return events;
    }

    @Override
    public void complete(
        java.util.Collection<UUID> published, List<Retry> retries, List<Dead> deadEvents) {
      try {
        if (!published.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(delete)) {
            statement.setArray(1, connection.createArrayOf("uuid", published.toArray()));
            statement.executeUpdate();
          }
        }
        if (!retries.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(retry)) {
            int n = retries.size();
            Object[] ids = new Object[n];
            Object[] attempts = new Object[n];
            Object[] delays = new Object[n];
            Object[] errors = new Object[n];
            for (int i = 0; i < n; i++) {
              Retry r = retries.get(i);
              ids[i] = r.id();
              attempts[i] = r.attempts();
              delays[i] = r.delay().toMillis();
              errors[i] = r.error();
            }
            statement.setArray(1, array("uuid", ids));
            statement.setArray(2, array("int4", attempts));
            statement.setArray(3, array("int8", delays));
            statement.setArray(4, array("text", errors));
            statement.executeUpdate();
          }
        }
        if (!deadEvents.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(dead)) {
            int n = deadEvents.size();
            Object[] ids = new Object[n];
            Object[] attempts = new Object[n];
            Object[] errors = new Object[n];
            for (int i = 0; i < n; i++) {
              Dead d = deadEvents.get(i);
              ids[i] = d.id();
              attempts[i] = d.attempts();
              errors[i] = d.error();
            }
            statement.setArray(1, array("uuid", ids));
            statement.setArray(2, array("int4", attempts));
            statement.setArray(3, array("text", errors));
            statement.executeUpdate();
          }
        }
        connection.commit();
        done = true;
      } catch (SQLException ex) {
        throw new OutboxException(
            "Could not record the outcome of "
                + events.size()
                + " event(s) in "
                + table
                + "; they will be published again: "
                + ex.getMessage(),
            ex);
      }
    }

    private Array array(String type, Object[] values) throws SQLException {
      return connection.createArrayOf(type, values);
    }

    @Override
    public void close() {
      if (done) {
        closeQuietly(connection);
      } else {
        rollbackAndClose(connection);
      }
    }
  }

  @Override
  public List<DeadEvent> findDead(int limit) {
    String sql =
        "SELECT "
            + COLUMNS
            + ", last_error, coalesce(last_attempt_at, created_at) FROM "
            + table.qualified()
            + " WHERE status = 'DEAD' ORDER BY seq LIMIT ?";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setInt(1, limit);
      List<DeadEvent> result = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          String error = rs.getString(12);
          result.add(
              new DeadEvent(
                  readEvent(rs), error == null ? "" : error, rs.getTimestamp(13).toInstant()));
        }
      }
      return result;
    } catch (SQLException ex) {
      throw new OutboxException("Could not read dead events from " + table, ex);
    }
  }

  @Override
  public boolean replay(UUID id) {
    return updateDead(
        "UPDATE "
            + table.qualified()
            + " SET status = 'PENDING', attempts = 0, available_at = clock_timestamp()"
            + " WHERE id = ? AND status = 'DEAD'",
        id);
  }

  @Override
  public boolean discard(UUID id) {
    return updateDead("DELETE FROM " + table.qualified() + " WHERE id = ? AND status = 'DEAD'", id);
  }

  private boolean updateDead(String sql, UUID id) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      statement.setObject(1, id);
      return statement.executeUpdate() == 1;
    } catch (SQLException ex) {
      throw new OutboxException("Could not update dead event " + id + " in " + table, ex);
    }
  }

  @Override
  public Stats stats() {
    String t = table.qualified();
    String sql =
        "SELECT (SELECT count(*) FROM "
            + t
            + " WHERE status = 'PENDING'), (SELECT count(*) FROM "
            + t
            + " WHERE status = 'DEAD'), (SELECT created_at FROM "
            + t
            + " WHERE status = 'PENDING' ORDER BY seq LIMIT 1)";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rs = statement.executeQuery()) {
      rs.next();
      Timestamp oldest = rs.getTimestamp(3);
      return new Stats(
          rs.getLong(1), rs.getLong(2), Optional.ofNullable(oldest).map(Timestamp::toInstant));
    } catch (SQLException ex) {
      throw new OutboxException("Could not read outbox statistics from " + table, ex);
    }
  }

  @Override
  public void verifySchema() {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement("SELECT to_regclass(?)")) {
      statement.setString(1, table.qualified());
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        if (rs.getString(1) == null) {
          throw new OutboxException(
              "The outbox table '"
                  + table
                  + "' does not exist. Either let the library create it (outbox.migration.enabled=true,"
                  + " the default), or create it yourself with the DDL in docs/schema.md"
                  + " (also printed by dev.outbox.store.OutboxSchema.ddl), or point outbox.table.schema"
                  + " and outbox.table.name at the existing table.");
        }
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not check the outbox table '" + table + "': " + ex.getMessage(), ex);
    }
  }

  private static void rollbackAndClose(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the connection is closed below; the server rolls back with it
    }
    closeQuietly(connection);
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception ignored) {
      // nothing useful to do
    }
  }
}
