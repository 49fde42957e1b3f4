package dev.outbox.store;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The outbox table on PostgreSQL.
 *
 * <p>Writes take a transaction-scoped advisory lock per key before inserting, so two transactions
 * writing the same key are serialized and the sequence order of a key's events is its commit order.
 * Relays lease slots ({@link PostgresLeases}) and read and complete the rows of their slots with
 * short statements ({@link PostgresSlotRows}). Published rows are deleted, so the table holds only
 * pending and dead events.
 */
public final class PostgresOutboxRepository implements OutboxRepository {

  static final String COLUMNS = columns("");

  /** The columns {@link #readEvent} reads, qualified with {@code prefix}. */
  static String columns(String prefix) {
    return String.join(
        ", ",
        prefix + "id",
        prefix + "seq",
        prefix + "destination",
        prefix + "event_key",
        prefix + "aggregate_type",
        prefix + "event_type",
        prefix + "event_version",
        prefix + "payload",
        prefix + "headers::text",
        prefix + "created_at",
        prefix + "attempts");
  }

  /** PostgreSQL's SQLSTATE for a deadlock it detected and broke by aborting one transaction. */
  static final String DEADLOCK = "40P01";

  static final String DEADLOCK_HINT =
      " (this transaction waited for the lock of an event key that another transaction held while"
          + " that one waited for a lock this one held, e.g. both wrote events of the same keys in"
          + " opposite order in separate calls; PostgreSQL aborted this transaction to break the"
          + " cycle: roll it back and retry it. One publishAll call locks its keys in a fixed"
          + " order; see docs/guarantees.md)";

  private final StoreConnections connections;
  private final StoreConnections relayConnections;
  private final TableName table;
  private final String insertKeyed;
  private final String insertUnkeyed;
  private final String lockKeysInOrder;
  private final PostgresLeases leases;
  private final PostgresSlotRows rows;
  private final boolean deleteAfterWrite;
  private final PostgresDeadEvents deadEvents;
  private final PostgresOverview overview;

  public PostgresOutboxRepository(DataSource dataSource, TableName table) {
    this(dataSource, table, StoreOptions.defaults());
  }

  public PostgresOutboxRepository(DataSource dataSource, TableName table, StoreOptions options) {
    this.connections = new StoreConnections(Objects.requireNonNull(dataSource, "dataSource"));
    // The relay's own, bounded by bound(); operators' calls (bulk replays, statistics) are not
    this.relayConnections = new StoreConnections(dataSource);
    this.table = Objects.requireNonNull(table, "table");
    String t = table.qualified();
    // The key locks' class is the table's oid, resolved from a literal when the statement is
    // parsed, through the search path as the INSERT's own table name is: every spelling that names
    // this table takes the same locks (an instance naming the schema, another finding the table
    // through the search path), and no other table shares them.
    String lockClass = "'" + t + "'::regclass::oid::int4";
    String insertColumns =
        "INSERT INTO "
            + t
            + " (id, destination, event_key, aggregate_type, event_type, event_version, payload,"
            + " headers, created_at) ";
    this.insertKeyed =
        insertColumns
            + "SELECT ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ? FROM (SELECT pg_advisory_xact_lock("
            + lockClass
            + ", hashtext(?))) AS key_lock";
    this.insertUnkeyed = insertColumns + "VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)";
    this.lockKeysInOrder =
        "SELECT pg_advisory_xact_lock("
            + lockClass
            + ", s.h) FROM (SELECT DISTINCT hashtext(k) AS h FROM"
            + " unnest(?::text[]) AS k ORDER BY 1 OFFSET 0) AS s";
    this.leases = new PostgresLeases(relayConnections, table);
    this.rows = new PostgresSlotRows(relayConnections, table, options);
    this.deleteAfterWrite = options.deleteAfterWrite();
    this.deadEvents = new PostgresDeadEvents(connections, table);
    this.overview = new PostgresOverview(connections, table);
  }

  public TableName table() {
    return table;
  }

  @Override
  public void append(Connection connection, List<OutboxEvent> events) {
    try {
      lockKeysInOrder(connection, events);
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
            statement.setString(10, event.key());
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
        if (deleteAfterWrite) {
          deleteWritten(connection, events);
        }
      } finally {
        closeQuietly(keyed);
        closeQuietly(unkeyed);
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not write "
              + events.size()
              + " event(s) to "
              + table
              + ": "
              + ex.getMessage()
              + (DEADLOCK.equals(ex.getSQLState()) ? DEADLOCK_HINT : ""),
          ex);
    }
  }

  /**
   * With several keys in one write, takes their locks first in hash order, so two transactions
   * writing the same keys in different orders cannot deadlock on them. (Locks taken by separate
   * writes in one transaction follow the order of those writes.)
   */
  private void lockKeysInOrder(Connection connection, List<OutboxEvent> events)
      throws SQLException {
    Set<String> keys = new HashSet<>();
    for (OutboxEvent event : events) {
      if (event.key() != null) {
        keys.add(event.key());
      }
    }
    if (keys.size() < 2) {
      return;
    }
    try (PreparedStatement statement = connection.prepareStatement(lockKeysInOrder)) {
      statement.setArray(1, connection.createArrayOf("text", keys.toArray()));
      statement.execute();
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

  private void deleteWritten(Connection connection, List<OutboxEvent> events) throws SQLException {
    try (PreparedStatement delete =
        connection.prepareStatement("DELETE FROM " + table.qualified() + " WHERE id = ANY(?)")) {
      delete.setArray(
          1, connection.createArrayOf("uuid", events.stream().map(OutboxEvent::id).toArray()));
      delete.executeUpdate();
    }
  }

  private static void execute(PreparedStatement statement) throws SQLException {
    if (statement == null) {
      return;
    }
    statement.executeBatch();
  }

  @Override
  public void bound(Duration callTimeout, Duration rebalanceTimeout) {
    relayConnections.bound(callTimeout);
    leases.rebalanceTimeout(rebalanceTimeout);
  }

  @Override
  public Leases renewLeases(String member, Duration ttl) {
    return leases.renew(member, ttl);
  }

  @Override
  public Leases rebalanceLeases(String member, Duration ttl, Collection<Integer> release) {
    return leases.rebalance(member, ttl, release);
  }

  @Override
  public void leave(String member) {
    leases.leave(member);
  }

  @Override
  public List<Candidate> candidates(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, Held held) {
    return rows.candidates(slots, tokens, perSlot, held);
  }

  @Override
  public Prefetched prefetch(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, int limit, Held held) {
    return rows.prefetch(slots, tokens, perSlot, limit, held);
  }

  @Override
  public List<String> pendingKeys(String destination, Collection<Integer> slots, int depth) {
    return rows.pendingKeys(destination, slots, depth);
  }

  @Override
  public Loaded load(Collection<UUID> ids) {
    return rows.load(ids);
  }

  @Override
  public Completion complete(
      String member,
      Collection<Long> tokens,
      Collection<UUID> published,
      List<Retry> retries,
      List<Dead> dead) {
    return rows.complete(member, tokens, published, retries, dead);
  }

  /**
   * The event of the current row.
   *
   * @throws IllegalArgumentException naming the column, if the row holds what no event can have
   *     (written by another writer without the table's constraints)
   */
  static OutboxEvent readEvent(ResultSet rs) throws SQLException {
    int version = rs.getInt(7);
    if (version < 1) {
      throw new IllegalArgumentException("event_version must be at least 1, was " + version);
    }
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

  /**
   * A dead row as an event; one that cannot be decoded (its last error says why) is shown with
   * empty headers and version 1, so the operator can still list, replay or discard it. Every
   * listing of dead events reads its rows with this, with a filter ({@link PostgresDeadEvents}) or
   * without.
   */
  static OutboxEvent readDeadEvent(ResultSet rs) throws SQLException {
    try {
      return readEvent(rs);
    } catch (IllegalArgumentException ex) {
      return new OutboxEvent(
          rs.getObject(1, UUID.class),
          rs.getLong(2),
          rs.getString(3),
          rs.getString(4),
          rs.getString(5),
          rs.getString(6),
          Math.max(1, rs.getInt(7)),
          rs.getString(8),
          Map.of(),
          rs.getTimestamp(10).toInstant(),
          rs.getInt(11));
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
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setInt(1, limit);
      List<DeadEvent> result = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          String error = rs.getString(12);
          result.add(
              new DeadEvent(
                  readDeadEvent(rs), error == null ? "" : error, rs.getTimestamp(13).toInstant()));
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
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
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
            + " WHERE status = 'DEAD'), (SELECT min(o.created_at) FROM generate_series(0, "
            + (SLOTS - 1)
            + ") AS g(slot) CROSS JOIN LATERAL (SELECT e.created_at FROM "
            + t
            + " e WHERE e.slot = g.slot AND e.status = 'PENDING' ORDER BY e.seq LIMIT 1) o)";
    try (Connection connection = connections.autocommit();
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
  public boolean hasDueEvents() {
    String t = table.qualified();
    // An event behind an earlier event of its key that waits for its retry is not due either, as
    // the relay sends a key's events in order.
    String sql =
        "SELECT EXISTS (SELECT 1 FROM "
            + t
            + " e WHERE e.status = 'PENDING' AND (e.attempts = 0 OR e.available_at <= now())"
            + " AND NOT EXISTS (SELECT 1 FROM "
            + t
            + " h WHERE h.event_key = e.event_key AND h.seq < e.seq AND h.status = 'PENDING'"
            + " AND h.attempts > 0 AND h.available_at > now()))";
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rs = statement.executeQuery()) {
      rs.next();
      return rs.getBoolean(1);
    } catch (SQLException ex) {
      throw new OutboxException("Could not read pending events from " + table, ex);
    }
  }

  @Override
  public Stats statsUpTo(long countLimit) {
    return deadEvents.statsUpTo(countLimit);
  }

  @Override
  public Backlog backlog(int perSlotLimit) {
    return overview.backlog(perSlotLimit);
  }

  @Override
  public DeadGroups deadGroups(int scanLimit, int groupLimit) {
    return overview.deadGroups(scanLimit, groupLimit);
  }

  @Override
  public List<DeadEvent> findDead(DeadEventFilter filter, int limit) {
    return deadEvents.find(filter, limit);
  }

  @Override
  public long replayDead(DeadEventFilter filter) {
    return deadEvents.replay(filter);
  }

  @Override
  public long discardDead(DeadEventFilter filter) {
    return deadEvents.discard(filter);
  }

  @Override
  public OptionalLong purgeDead(Duration olderThan, int batchSize) {
    return deadEvents.purge(olderThan, batchSize);
  }

  @Override
  public void verifySchema() {
    try (Connection connection = connections.autocommit();
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

  static void rollbackAndClose(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the connection is closed below; the server rolls back with it
    }
    closeQuietly(connection);
  }

  static void closeQuietly(AutoCloseable closeable) {
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
