package dev.outbox.store;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Claims batches of due events so that any number of relays can share the table and still publish
 * each key in write order.
 *
 * <p>A claim is one transaction. It first takes a transaction-scoped advisory lock for each key
 * among the oldest due events that are not held back by an earlier event of their key ({@code
 * pg_try_advisory_xact_lock}: keys another relay or worker holds are skipped, never waited for; the
 * window spans {@value #WINDOW_FACTOR} times the batch, so a second relay finds keys beyond the
 * first one's, and locking stops once a batch's worth of keys is held). Then, with a fresh
 * snapshot, it locks the due events of the keys it holds within the sequence range of those oldest
 * events, oldest first, leaving out keys whose earlier event waits for a retry (or is dead, if dead
 * events block their key). Bounding the second statement by sequence keeps it an index range scan
 * however large the backlog is. Events without a key are claimed with {@code FOR UPDATE SKIP
 * LOCKED}. While the claim is open no other relay can take any event of its keys; when the claim's
 * transaction ends — completed, rolled back, or its session killed after a crash — the keys are
 * free again.
 */
final class PostgresClaims {

  /**
   * How many of the oldest due events a claim looks at, per event it may claim: room to find keys
   * that other relays or workers do not hold.
   */
  static final int WINDOW_FACTOR = 4;

  private final DataSource dataSource;
  private final TableName table;
  private final int relayLockClass;
  private final String timeout;
  private final String lockKeys;
  private final String claimKeyed;
  private final String claimUnkeyed;
  private final String probe;

  /** Whether the last claim found events; then the next one skips the idle probe. */
  private volatile boolean busy;

  private final String delete;
  private final String retry;
  private final String dead;

  PostgresClaims(DataSource dataSource, TableName table, StoreOptions options) {
    this.dataSource = dataSource;
    this.table = table;
    String t = table.qualified();
    this.relayLockClass = ("dev.outbox.relay:" + t).hashCode();
    this.timeout = options.claimTimeout().toMillis() + "ms";
    // New rows (no attempts yet) are due at once whatever their available_at, which is their
    // writer's transaction start and may lie after this claim's now(); retries wait for theirs.
    String due = " a.status = 'PENDING' AND (a.attempts = 0 OR a.available_at <= now())";
    String blocked =
        "(b.status = 'PENDING' AND b.attempts > 0 AND b.available_at > now())"
            + (options.deadEventBlocksKey() ? " OR b.status = 'DEAD'" : "");
    String notBlocked =
        " AND NOT EXISTS (SELECT 1 FROM "
            + t
            + " b WHERE b.event_key = a.event_key AND b.seq < a.seq AND ("
            + blocked
            + "))";
    this.lockKeys =
        "SELECT set_config('idle_in_transaction_session_timeout', ?, true);"
            + " SELECT k.event_key, k.first_seq, k.last_seq FROM (SELECT c.event_key, min(c.seq) AS"
            + " first_seq, max(c.seq) AS last_seq FROM (SELECT a.event_key, a.seq FROM "
            + t
            + " a WHERE"
            + due
            + notBlocked
            + " ORDER BY a.seq LIMIT ?) c GROUP BY c.event_key ORDER BY min(c.seq) OFFSET 0) k"
            + " WHERE k.event_key IS NULL OR pg_try_advisory_xact_lock(?, hashtext(k.event_key))"
            + " LIMIT ?";
    // Joining the held keys (hashed) is much cheaper than "event_key = ANY(?)" tested per row.
    this.claimKeyed =
        "SELECT "
            + PostgresOutboxRepository.columns("a.")
            + " FROM "
            + t
            + " a JOIN unnest(?::text[]) AS held(event_key) ON a.event_key = held.event_key WHERE"
            + due
            + " AND a.seq BETWEEN ? AND ?"
            + notBlocked
            + " ORDER BY a.seq LIMIT ? FOR UPDATE OF a";
    this.claimUnkeyed =
        "SELECT "
            + PostgresOutboxRepository.COLUMNS
            + " FROM "
            + t
            + " a WHERE"
            + due
            + " AND seq BETWEEN ? AND ? AND event_key IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP"
            + " LOCKED";
    this.probe = "SELECT EXISTS (SELECT 1 FROM " + t + " a WHERE" + due + ")";
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

  Claim claim(int limit) {
    Connection connection = null;
    try {
      connection = dataSource.getConnection();
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      // While idle, one cheap query per poll and no transaction; while events flow, no probe.
      if (!busy && !anyDue(connection)) {
        PostgresOutboxRepository.closeQuietly(connection);
        return new EmptyClaim();
      }
      connection.setAutoCommit(false);
      // 1. Lock the keys among the oldest due events that no other relay holds; the claim's
      // timeout is set in the same round trip.
      List<String> keys = new ArrayList<>();
      SeqRange keyed = new SeqRange();
      SeqRange unkeyed = new SeqRange();
      try (PreparedStatement statement = connection.prepareStatement(lockKeys)) {
        statement.setString(1, timeout);
        statement.setInt(2, limit * WINDOW_FACTOR);
        statement.setInt(3, relayLockClass);
        statement.setInt(4, limit);
        statement.execute();
        statement.getMoreResults();
        try (ResultSet rs = statement.getResultSet()) {
          while (rs.next()) {
            String key = rs.getString(1);
            if (key == null) {
              unkeyed.add(rs.getLong(2), rs.getLong(3));
            } else {
              keys.add(key);
              keyed.add(rs.getLong(2), rs.getLong(3));
            }
          }
        }
      }
      // 2. With a fresh snapshot, lock those keys' due events among the same oldest events.
      List<OutboxEvent> events = new ArrayList<>();
      if (!keys.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(claimKeyed)) {
          statement.setArray(1, connection.createArrayOf("text", keys.toArray()));
          statement.setLong(2, keyed.first);
          statement.setLong(3, keyed.last);
          statement.setInt(4, limit);
          read(statement, events);
        }
      }
      if (!unkeyed.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(claimUnkeyed)) {
          statement.setLong(1, unkeyed.first);
          statement.setLong(2, unkeyed.last);
          statement.setInt(3, limit);
          read(statement, events);
        }
        events.sort(Comparator.comparingLong(OutboxEvent::sequence));
        if (events.size() > limit) {
          events = new ArrayList<>(events.subList(0, limit));
        }
      }
      busy = !events.isEmpty();
      return new PostgresClaim(connection, events);
    } catch (SQLException | RuntimeException ex) {
      if (connection != null) {
        PostgresOutboxRepository.rollbackAndClose(connection);
      }
      throw new OutboxException(
          "Could not claim events from " + table + ": " + ex.getMessage(), ex);
    }
  }

  private boolean anyDue(Connection connection) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(probe);
        ResultSet rs = statement.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /** A claim of nothing, made without a transaction. */
  private static final class EmptyClaim implements Claim {
    @Override
    public List<OutboxEvent> events() {
      return List.of();
    }

    @Override
    public void complete(Collection<UUID> published, List<Retry> retries, List<Dead> dead) {}

    @Override
    public void close() {}
  }

  /** The range of sequence numbers a group of candidate events spans. */
  private static final class SeqRange {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;

    void add(long from, long to) {
      first = Math.min(first, from);
      last = Math.max(last, to);
    }

    boolean isEmpty() {
      return first > last;
    }
  }

  private static void read(PreparedStatement statement, List<OutboxEvent> into)
      throws SQLException {
    try (ResultSet rs = statement.executeQuery()) {
      while (rs.next()) {
        into.add(readEvent(rs));
      }
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

  /** An open claim: the transaction holding the key locks and the row locks. */
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
    public void complete(Collection<UUID> published, List<Retry> retries, List<Dead> deadEvents) {
      try {
        if (!published.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(delete)) {
            statement.setArray(1, array("uuid", published.toArray()));
            statement.executeUpdate();
          }
        }
        if (!retries.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(retry)) {
            statement.setArray(1, array("uuid", retries.stream().map(Retry::id).toArray()));
            statement.setArray(2, array("int4", retries.stream().map(Retry::attempts).toArray()));
            statement.setArray(
                3, array("int8", retries.stream().map(r -> r.delay().toMillis()).toArray()));
            statement.setArray(4, array("text", retries.stream().map(Retry::error).toArray()));
            statement.executeUpdate();
          }
        }
        if (!deadEvents.isEmpty()) {
          try (PreparedStatement statement = connection.prepareStatement(dead)) {
            statement.setArray(1, array("uuid", deadEvents.stream().map(Dead::id).toArray()));
            statement.setArray(2, array("int4", deadEvents.stream().map(Dead::attempts).toArray()));
            statement.setArray(3, array("text", deadEvents.stream().map(Dead::error).toArray()));
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
        PostgresOutboxRepository.closeQuietly(connection);
      } else {
        PostgresOutboxRepository.rollbackAndClose(connection);
      }
    }
  }
}
