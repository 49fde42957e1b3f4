package dev.outbox.store;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.store.RelayStore.Candidate;
import dev.outbox.store.RelayStore.Completion;
import dev.outbox.store.RelayStore.Dead;
import dev.outbox.store.RelayStore.Held;
import dev.outbox.store.RelayStore.Loaded;
import dev.outbox.store.RelayStore.Prefetched;
import dev.outbox.store.RelayStore.Retry;
import dev.outbox.store.RelayStore.Undecodable;
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

/**
 * Reads and completes the rows of leased slots. Every statement runs on its own (autocommit): the
 * relay holds no transaction while it waits for the broker.
 *
 * <p>{@link #candidates} is one index range scan per slot over the {@code (slot, seq)} index of
 * pending rows, returning narrow columns only; payloads are read afterwards for the rows that will
 * be sent ({@link #load}). While few rows are pending, {@link #prefetch} reads the same rows with
 * their payloads in one statement. The relay's reads and its completions are fenced by lease token:
 * they read or touch only rows of slots still held under the tokens the relay's worker was granted,
 * so a member that lost slots without knowing it (its session ended, another member took them)
 * reads nothing of them.
 *
 * <p>The deletion of published rows commits without waiting for its WAL to reach the disk or a
 * standby ({@link #NO_FLUSH_WAIT}). A deletion lost in a crash or failover of PostgreSQL brings its
 * acknowledged rows back pending, and they are published again: duplicates with the same ids, which
 * consumers already drop, as after a relay crash between the send and the delete (see
 * docs/guarantees.md, guarantee 2). Retries and dead events keep the session's setting.
 */
final class PostgresSlotRows {

  /**
   * A condition that makes the transaction of its statement commit asynchronously ({@code
   * synchronous_commit} off for that transaction only; the session keeps its own setting), so an
   * autocommit statement of the relay never waits for the WAL fsync. An uncorrelated subquery,
   * evaluated once, before the commit; always true. For autocommit statements only: inside a
   * transaction block it would make the whole transaction asynchronous.
   */
  static final String NO_FLUSH_WAIT =
      "(SELECT set_config('synchronous_commit', 'off', true)) = 'off'";

  /** Above this many held keys, a read leaves them out through a hashed subplan. */
  static final int MANY_HELD_KEYS = 64;

  private final StoreConnections connections;
  private final TableName table;
  private final String candidates;
  private final String candidatesManyHeld;
  private final String prefetch;
  private final String prefetchManyHeld;
  private final String load;
  private final String pendingKeys;
  private final String delete;
  private final String retry;
  private final String dead;

  PostgresSlotRows(StoreConnections connections, TableName table, StoreOptions options) {
    this.connections = connections;
    this.table = table;
    String t = table.qualified();
    String slots = t + "_slot";
    String deadBlocks =
        options.deadEventBlocksKey()
            ? " AND NOT EXISTS (SELECT 1 FROM "
                + t
                + " d WHERE d.status = 'DEAD' AND d.event_key = e.event_key AND d.seq < e.seq)"
            : "";
    // A new row (no attempts) is due at once whatever its available_at (its writer's clock); a
    // retry is due at its available_at, compared by the database clock only.
    String waitMillis =
        "CASE WHEN h.attempts = 0 THEN 0 ELSE ceil(extract(epoch FROM h.available_at - now()) *"
            + " 1000)::bigint END";
    // A few held keys (retries not yet due) are left out with "<> ALL(array)", as cheap as no
    // filter. Many (a closed destination's) go through a hashed subplan instead: a prepared
    // statement's generic plan compares each row with every key of the array (8,000 keys against
    // 200,000 rows: 16 s, against 39 ms). Unkeyed rows are left out by their destination while it
    // is closed: a few destinations at most.
    String fewHeld = "e.event_key <> ALL(?::text[])";
    String manyHeld = "e.event_key NOT IN (SELECT unnest(?::text[]))";
    // The slots to read: only those of the given ones still held under one of the given tokens.
    // The slot table has 64 rows, read once; the per-slot range scans follow in the order the
    // slots were given (which slots a prefetch's LIMIT reaches first).
    String stillHeld =
        "(SELECT s.slot FROM "
            + slots
            + " s WHERE s.slot = ANY(?::int2[]) AND s.token = ANY(?::int8[])"
            + " ORDER BY array_position(?::int2[], s.slot)) AS g(slot)";
    this.candidates = candidates(t, stillHeld, waitMillis, fewHeld, deadBlocks);
    this.candidatesManyHeld = candidates(t, stillHeld, waitMillis, manyHeld, deadBlocks);
    this.prefetch = prefetch(t, stillHeld, waitMillis, fewHeld, deadBlocks);
    this.prefetchManyHeld = prefetch(t, stillHeld, waitMillis, manyHeld, deadBlocks);
    // The oldest rows of each slot, whatever their destination, over the (slot, seq) index: the
    // rows a relay reads next, so its cost does not grow with the backlog behind them.
    this.pendingKeys =
        "SELECT DISTINCT h.event_key FROM unnest(?::int2[]) AS g(slot) CROSS JOIN LATERAL (SELECT"
            + " e.event_key, e.destination FROM "
            + t
            + " e WHERE e.slot = g.slot AND e.status = 'PENDING' ORDER BY e.seq LIMIT ?) h WHERE"
            + " h.destination = ? AND h.event_key IS NOT NULL";
    this.load =
        "SELECT "
            + PostgresOutboxRepository.COLUMNS
            + " FROM "
            + t
            + " WHERE id = ANY(?) AND status = 'PENDING'";
    // The fence is an uncorrelated subquery, evaluated once: joined to the slot table instead, the
    // planner (which estimates one matching slot row) may loop over the held slots and look the
    // whole batch up by id once per slot, up to 64 times the work of one batch.
    String fence =
        " AND e.slot = ANY(ARRAY(SELECT s.slot FROM "
            + slots
            + " s WHERE s.owner = ? AND s.token = ANY(?)))";
    this.delete = "DELETE FROM " + t + " e WHERE e.id = ANY(?)" + fence + " AND " + NO_FLUSH_WAIT;
    this.retry =
        "UPDATE "
            + t
            + " e SET attempts = u.attempts, last_error = u.error, last_attempt_at ="
            + " clock_timestamp(), available_at = clock_timestamp() + u.delay_ms * interval '1"
            + " millisecond' FROM unnest(?::uuid[], ?::int[], ?::bigint[], ?::text[]) AS u(id,"
            + " attempts, delay_ms, error) WHERE e.id = u.id AND e.status = 'PENDING'"
            + fence;
    this.dead =
        "UPDATE "
            + t
            + " e SET status = 'DEAD', attempts = u.attempts, last_error = u.error,"
            + " last_attempt_at = clock_timestamp() FROM unnest(?::uuid[], ?::int[], ?::text[]) AS"
            + " u(id, attempts, error) WHERE e.id = u.id AND e.status = 'PENDING'"
            + fence;
  }

  private static boolean manyHeld(Held held) {
    return held.keys().size() > MANY_HELD_KEYS;
  }

  /**
   * The oldest pending rows of each slot, those of held keys left out by {@code keyFilter}. Unkeyed
   * rows keep no order, so one whose retry is not yet due is left out too: enough of them would
   * otherwise fill every read of their slot and hold up the rows behind them until they are due.
   */
  private static String oldestPerSlot(String t, String keyFilter, String deadBlocks) {
    return " FROM "
        + t
        + " e WHERE e.slot = g.slot AND e.status = 'PENDING' AND (e.event_key IS NULL OR "
        + keyFilter
        + ") AND (e.event_key IS NOT NULL OR (e.destination <> ALL(?::text[]) AND (e.attempts = 0"
        + " OR e.available_at <= now())))"
        + deadBlocks
        + " ORDER BY e.seq LIMIT ?) h";
  }

  private static String candidates(
      String t, String slots, String waitMillis, String keyFilter, String deadBlocks) {
    return "SELECT h.id, h.seq, h.event_key, h.slot, h.attempts, "
        + waitMillis
        + " FROM "
        + slots
        + " CROSS JOIN LATERAL (SELECT e.id, e.seq,"
        + " e.event_key, e.slot, e.attempts, e.available_at"
        + oldestPerSlot(t, keyFilter, deadBlocks);
  }

  /**
   * The same rows with every column readEvent reads first, then the slot and the wait. The outer
   * LIMIT stops the scan early, so no more payloads are read than rows returned; it cuts the stream
   * of slot after slot, each slot's rows in seq order, so each slot keeps its oldest rows.
   */
  private static String prefetch(
      String t, String slots, String waitMillis, String keyFilter, String deadBlocks) {
    return "SELECT "
        + PostgresOutboxRepository.columns("h.")
        + ", h.slot, "
        + waitMillis
        + " FROM "
        + slots
        + " CROSS JOIN LATERAL (SELECT e.*"
        + oldestPerSlot(t, keyFilter, deadBlocks)
        + " LIMIT ?";
  }

  /** The statement that deletes published rows: ids, member, tokens. */
  String deleteStatement() {
    return delete;
  }

  /**
   * The oldest pending rows of those of {@code slotList} still held under one of {@code tokens}.
   */
  List<Candidate> candidates(
      Collection<Integer> slotList, Collection<Long> tokens, int perSlot, Held held) {
    if (slotList.isEmpty()) {
      return List.of();
    }
    String sql = manyHeld(held) ? candidatesManyHeld : candidates;
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      bindRead(connection, statement, slotList, tokens, held, perSlot);
      List<Candidate> result = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          result.add(
              new Candidate(
                  rs.getObject(1, UUID.class),
                  rs.getLong(2),
                  rs.getString(3),
                  rs.getInt(4),
                  rs.getInt(5),
                  rs.getLong(6)));
        }
      }
      result.sort(Comparator.comparingLong(Candidate::sequence));
      return result;
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not read pending events from " + table + ": " + ex.getMessage(), ex);
    }
  }

  /** At most {@code limit} of the rows {@link #candidates} reads, with their events. */
  Prefetched prefetch(
      Collection<Integer> slotList, Collection<Long> tokens, int perSlot, int limit, Held held) {
    if (slotList.isEmpty()) {
      return new Prefetched(List.of(), Loaded.of(List.of()));
    }
    String sql = manyHeld(held) ? prefetchManyHeld : prefetch;
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      bindRead(connection, statement, slotList, tokens, held, perSlot);
      statement.setInt(7, limit);
      List<Candidate> candidates = new ArrayList<>();
      Decoded decoded = new Decoded();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          candidates.add(
              new Candidate(
                  rs.getObject(1, UUID.class),
                  rs.getLong(2),
                  rs.getString(4),
                  rs.getInt(12),
                  rs.getInt(11),
                  rs.getLong(13)));
          decoded.add(rs);
        }
      }
      candidates.sort(Comparator.comparingLong(Candidate::sequence));
      return new Prefetched(candidates, decoded.loaded());
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not read pending events from " + table + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * Binds the six parameters {@link #candidates} and {@link #prefetch} share: the slots to read and
   * the tokens they must still be held under (the slots twice: to read, and in the order to read
   * them), the held keys and destinations to leave out, and the rows to read per slot.
   */
  private static void bindRead(
      Connection connection,
      PreparedStatement statement,
      Collection<Integer> slotList,
      Collection<Long> tokens,
      Held held,
      int perSlot)
      throws SQLException {
    Array slotArray = connection.createArrayOf("int2", slotList.toArray());
    statement.setArray(1, slotArray);
    statement.setArray(2, connection.createArrayOf("int8", tokens.toArray()));
    statement.setArray(3, slotArray);
    statement.setArray(4, connection.createArrayOf("text", held.keys().toArray()));
    statement.setArray(5, connection.createArrayOf("text", held.destinations().toArray()));
    statement.setInt(6, perSlot);
  }

  List<String> pendingKeys(String destination, Collection<Integer> slotList, int depth) {
    if (slotList.isEmpty()) {
      return List.of();
    }
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(pendingKeys)) {
      statement.setArray(1, connection.createArrayOf("int2", slotList.toArray()));
      statement.setInt(2, depth);
      statement.setString(3, destination);
      List<String> keys = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          keys.add(rs.getString(1));
        }
      }
      return keys;
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not read the keys of pending events to "
              + destination
              + " from "
              + table
              + ": "
              + ex.getMessage(),
          ex);
    }
  }

  /**
   * The pending events of {@code ids}. A row that cannot be decoded (another writer stored
   * something the relay cannot send) is returned as {@link Undecodable}, never fails the others.
   */
  Loaded load(Collection<UUID> ids) {
    if (ids.isEmpty()) {
      return Loaded.of(List.of());
    }
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(load)) {
      statement.setArray(1, connection.createArrayOf("uuid", ids.toArray()));
      Decoded decoded = new Decoded();
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          decoded.add(rs);
        }
      }
      return decoded.loaded();
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not read " + ids.size() + " event(s) from " + table + ": " + ex.getMessage(), ex);
    }
  }

  Completion complete(
      String member,
      Collection<Long> tokens,
      Collection<UUID> published,
      List<Retry> retries,
      List<Dead> deadEvents) {
    try (Connection connection = connections.autocommit()) {
      Long[] fence = tokens.toArray(new Long[0]);
      int deleted = 0;
      int retried = 0;
      int died = 0;
      if (!published.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(delete)) {
          statement.setArray(1, connection.createArrayOf("uuid", published.toArray()));
          statement.setString(2, member);
          statement.setArray(3, connection.createArrayOf("int8", fence));
          deleted = statement.executeUpdate();
        }
      }
      if (!retries.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(retry)) {
          statement.setArray(
              1, connection.createArrayOf("uuid", retries.stream().map(Retry::id).toArray()));
          statement.setArray(
              2, connection.createArrayOf("int4", retries.stream().map(Retry::attempts).toArray()));
          statement.setArray(
              3,
              connection.createArrayOf(
                  "int8", retries.stream().map(r -> r.delay().toMillis()).toArray()));
          statement.setArray(
              4, connection.createArrayOf("text", retries.stream().map(Retry::error).toArray()));
          statement.setString(5, member);
          statement.setArray(6, connection.createArrayOf("int8", fence));
          retried = statement.executeUpdate();
        }
      }
      if (!deadEvents.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(dead)) {
          statement.setArray(
              1, connection.createArrayOf("uuid", deadEvents.stream().map(Dead::id).toArray()));
          statement.setArray(
              2,
              connection.createArrayOf("int4", deadEvents.stream().map(Dead::attempts).toArray()));
          statement.setArray(
              3, connection.createArrayOf("text", deadEvents.stream().map(Dead::error).toArray()));
          statement.setString(4, member);
          statement.setArray(5, connection.createArrayOf("int8", fence));
          died = statement.executeUpdate();
        }
      }
      return new Completion(deleted, retried, died);
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not record the outcome of "
              + (published.size() + retries.size() + deadEvents.size())
              + " event(s) in "
              + table
              + "; they will be published again: "
              + ex.getMessage(),
          ex);
    }
  }

  /** Events read row by row; a row that cannot be decoded is kept aside, with the reason. */
  private static final class Decoded {
    private final List<OutboxEvent> events = new ArrayList<>();
    private final List<Undecodable> undecodable = new ArrayList<>();

    void add(ResultSet rs) throws SQLException {
      try {
        events.add(PostgresOutboxRepository.readEvent(rs));
      } catch (RuntimeException ex) {
        undecodable.add(
            new Undecodable(
                rs.getObject(1, UUID.class),
                rs.getString(4),
                rs.getInt(11),
                "Cannot decode the stored event: " + ex.getMessage()));
      }
    }

    Loaded loaded() {
      events.sort(Comparator.comparingLong(OutboxEvent::sequence));
      return new Loaded(events, undecodable);
    }
  }
}
