package dev.outbox.store;

import dev.outbox.OutboxException;
import dev.outbox.store.OutboxRepository.DeadEvent;
import dev.outbox.store.OutboxRepository.Stats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * Dead events in bulk: listing, replaying and discarding by {@link DeadEventFilter}, deleting those
 * past their retention, and bounded counts for health checks.
 *
 * <p>Bulk operations work in chunks of at most {@link #CHUNK} rows, one autocommitted statement per
 * chunk, walking the dead events in the order they died (the {@code (dead_at, seq)} index of dead
 * rows) so each chunk continues where the last one stopped and no row is read twice. Only events
 * that were dead when the operation began are touched: an event replayed by it that dies again
 * meanwhile is left alone. A chunk re-checks {@code status = 'DEAD'} on each row it changes, so
 * running the same operation on two instances at once changes every row once.
 */
final class PostgresDeadEvents {

  /** Rows changed per statement by bulk operations. */
  static final int CHUNK = 1000;

  /** When an event was dead-lettered: its last attempt (or, if it never had one, its writing). */
  static final String DEAD_AT = "coalesce(last_attempt_at, created_at)";

  private final StoreConnections connections;
  private final TableName table;
  private final int retentionLockClass;

  PostgresDeadEvents(StoreConnections connections, TableName table) {
    this.connections = connections;
    this.table = table;
    this.retentionLockClass = retentionLockClass(table);
  }

  /** The advisory lock (class, 0) that one purging instance holds while it purges {@code table}. */
  static int retentionLockClass(TableName table) {
    return ("dev.outbox:dead-retention:" + table.qualified()).hashCode();
  }

  List<DeadEvent> find(DeadEventFilter filter, int limit) {
    if (limit < 1) {
      throw new OutboxException("Dead event limit must be at least 1, was " + limit);
    }
    Where where = Where.of(filter);
    String sql =
        "SELECT "
            + PostgresOutboxRepository.COLUMNS
            + ", last_error, "
            + DEAD_AT
            + " FROM "
            + table.qualified()
            + " WHERE status = 'DEAD'"
            + where.sql
            + " ORDER BY seq LIMIT ?";
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      int next = where.bind(statement, 1);
      statement.setInt(next, limit);
      List<DeadEvent> result = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          String error = rs.getString(12);
          result.add(
              new DeadEvent(
                  PostgresOutboxRepository.readDeadEvent(rs),
                  error == null ? "" : error,
                  rs.getTimestamp(13).toInstant()));
        }
      }
      return result;
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not read dead events matching " + filter + " from " + table, ex);
    }
  }

  long replay(DeadEventFilter filter) {
    return inChunks(
        filter,
        "UPDATE "
            + table.qualified()
            + " e SET status = 'PENDING', attempts = 0, available_at = clock_timestamp() WHERE e.id ="
            + " ANY(ARRAY(SELECT id FROM c)) AND e.status = 'DEAD' RETURNING 1",
        "replay");
  }

  long discard(DeadEventFilter filter) {
    return inChunks(
        filter,
        "DELETE FROM "
            + table.qualified()
            + " e WHERE e.id = ANY(ARRAY(SELECT id FROM c)) AND e.status = 'DEAD' RETURNING 1",
        "discard");
  }

  /**
   * Runs {@code action} (a data-modifying statement over the ids of the chunk {@code c}, by primary
   * key: {@code id = ANY(ARRAY(...))} keeps the planner from joining against the whole table) chunk
   * by chunk over the dead events matching {@code filter}; returns how many rows it changed.
   */
  private long inChunks(DeadEventFilter filter, String action, String what) {
    Where where = Where.of(filter);
    String select =
        "SELECT id, seq, "
            + DEAD_AT
            + " AS dead_at FROM "
            + table.qualified()
            + " WHERE status = 'DEAD' AND "
            + DEAD_AT
            + " < ?"
            + where.sql;
    String order = " ORDER BY " + DEAD_AT + ", seq LIMIT " + CHUNK;
    String report =
        " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM c), l.dead_at, l.seq FROM (SELECT"
            + " 1) AS one LEFT JOIN LATERAL (SELECT dead_at, seq FROM c ORDER BY dead_at DESC, seq"
            + " DESC LIMIT 1) AS l ON true";
    String first = "WITH c AS (" + select + order + "), u AS (" + action + ")" + report;
    String next =
        "WITH c AS ("
            + select
            + " AND ("
            + DEAD_AT
            + ", seq) > (?, ?)"
            + order
            + "), u AS ("
            + action
            + ")"
            + report;
    try (Connection connection = connections.autocommit()) {
      Timestamp began = databaseNow(connection);
      long changed = 0;
      @Nullable Timestamp cursorDeadAt = null;
      long cursorSeq = 0;
      while (true) {
        try (PreparedStatement statement =
            connection.prepareStatement(cursorDeadAt == null ? first : next)) {
          statement.setTimestamp(1, began);
          int index = where.bind(statement, 2);
          if (cursorDeadAt != null) {
            statement.setTimestamp(index, cursorDeadAt);
            statement.setLong(index + 1, cursorSeq);
          }
          try (ResultSet rs = statement.executeQuery()) {
            rs.next();
            changed += rs.getLong(1);
            long selected = rs.getLong(2);
            if (selected < CHUNK) {
              return changed;
            }
            cursorDeadAt = rs.getTimestamp(3);
            cursorSeq = rs.getLong(4);
          }
        }
        if (Thread.currentThread().isInterrupted()) {
          throw new OutboxException(
              "Interrupted after the " + what + " of " + changed + " dead event(s) in " + table);
        }
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not " + what + " dead events matching " + filter + " in " + table, ex);
    }
  }

  /**
   * Deletes the dead events that died more than {@code olderThan} ago (by the database clock), in
   * statements of at most {@code batchSize} rows, each its own transaction. Only one batch per
   * table runs at a time, across all instances: returns empty, without deleting, while another
   * purge holds the lock, and what it deleted so far if another takes the lock between two batches.
   */
  OptionalLong purge(Duration olderThan, int batchSize) {
    if (olderThan.isNegative() || olderThan.isZero()) {
      throw new OutboxException("Dead event retention must be positive, was " + olderThan);
    }
    if (batchSize < 1) {
      throw new OutboxException("Dead event purge batch size must be at least 1, was " + batchSize);
    }
    String t = table.qualified();
    String delete =
        "DELETE FROM "
            + t
            + " e WHERE e.id = ANY(ARRAY(SELECT id FROM "
            + t
            + " WHERE status = 'DEAD' AND "
            + DEAD_AT
            + " < now() - ? * interval '1 millisecond' ORDER BY "
            + DEAD_AT
            + ", seq LIMIT ?)) AND e.status = 'DEAD'";
    // Each batch is a transaction of its own that first takes a transaction-level lock: it ends
    // with the transaction, also behind a pooler in transaction mode, where a session-level lock
    // and its unlock could land on different server connections and the lock stay held.
    try (Connection connection = connections.transaction()) {
      try (PreparedStatement lock =
              connection.prepareStatement("SELECT pg_try_advisory_xact_lock(?, 0)");
          PreparedStatement statement = connection.prepareStatement(delete)) {
        lock.setInt(1, retentionLockClass);
        long deleted = 0;
        int batch;
        do {
          boolean locked;
          try (ResultSet rs = lock.executeQuery()) {
            rs.next();
            locked = rs.getBoolean(1);
          }
          if (!locked) {
            connection.rollback();
            // Another purge runs: it deletes what is left
            return deleted == 0 ? OptionalLong.empty() : OptionalLong.of(deleted);
          }
          statement.setLong(1, olderThan.toMillis());
          statement.setInt(2, batchSize);
          batch = statement.executeUpdate();
          connection.commit();
          deleted += batch;
        } while (batch == batchSize && !Thread.currentThread().isInterrupted());
        return OptionalLong.of(deleted);
      } catch (SQLException ex) {
        try {
          connection.rollback();
        } catch (SQLException rollback) {
          ex.addSuppressed(rollback);
        }
        throw ex;
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not delete dead events older than " + olderThan + " from " + table, ex);
    }
  }

  /**
   * Counts pending and dead events up to {@code countLimit} each (a count equal to the limit means
   * "at least"), and the creation time of the oldest pending event: a handful of index probes
   * however large the backlog.
   */
  Stats statsUpTo(long countLimit) {
    if (countLimit < 1) {
      throw new OutboxException("Count limit must be at least 1, was " + countLimit);
    }
    String t = table.qualified();
    String sql =
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM "
            + t
            + " WHERE status = 'PENDING' LIMIT ?) AS p), (SELECT count(*) FROM (SELECT 1 FROM "
            + t
            + " WHERE status = 'DEAD' LIMIT ?) AS d), (SELECT min(o.created_at) FROM"
            + " generate_series(0, "
            + (RelayStore.SLOTS - 1)
            + ") AS g(slot) CROSS JOIN LATERAL (SELECT e.created_at FROM "
            + t
            + " e WHERE e.slot = g.slot AND e.status = 'PENDING' ORDER BY e.seq LIMIT 1) AS o)";
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, countLimit);
      statement.setLong(2, countLimit);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        Timestamp oldest = rs.getTimestamp(3);
        return new Stats(
            rs.getLong(1), rs.getLong(2), Optional.ofNullable(oldest).map(Timestamp::toInstant));
      }
    } catch (SQLException ex) {
      throw new OutboxException("Could not read outbox statistics from " + table, ex);
    }
  }

  private static Timestamp databaseNow(Connection connection) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement("SELECT clock_timestamp()");
        ResultSet rs = statement.executeQuery()) {
      rs.next();
      return rs.getTimestamp(1);
    }
  }

  /** The filter as SQL conditions over bound parameters; no value is ever part of the text. */
  private record Where(String sql, List<Object> values) {

    static Where of(DeadEventFilter filter) {
      StringBuilder sql = new StringBuilder();
      List<Object> values = new ArrayList<>();
      add(sql, values, " AND destination = ?", filter.destination());
      add(sql, values, " AND event_type = ?", filter.type());
      add(sql, values, " AND event_key = ?", filter.key());
      add(
          sql,
          values,
          " AND strpos(lower(coalesce(last_error, '')), lower(?)) > 0",
          filter.errorContains());
      add(sql, values, " AND " + DEAD_AT + " >= ?", filter.deadFrom());
      add(sql, values, " AND " + DEAD_AT + " < ?", filter.deadTo());
      add(sql, values, " AND created_at >= ?", filter.createdFrom());
      add(sql, values, " AND created_at < ?", filter.createdTo());
      return new Where(sql.toString(), values);
    }

    private static void add(
        StringBuilder sql, List<Object> values, String condition, @Nullable Object value) {
      if (value != null) {
        sql.append(condition);
        values.add(value);
      }
    }

    /** Binds the values from parameter {@code index} on; returns the next free index. */
    int bind(PreparedStatement statement, int index) throws SQLException {
      for (Object value : values) {
        if (value instanceof Instant instant) {
          statement.setObject(index++, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        } else {
          statement.setString(index++, (String) value);
        }
      }
      return index;
    }
  }
}
