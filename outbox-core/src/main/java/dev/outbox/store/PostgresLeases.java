package dev.outbox.store;

import dev.outbox.OutboxException;
import dev.outbox.store.RelayStore.Leases;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Slot leases in PostgreSQL: a member table and a slot table next to the outbox table.
 *
 * <p>Each member talks to the database through one connection of its own (the <em>anchor</em>), and
 * registers that connection's backend ({@code pid} and {@code backend_start}). A member is alive
 * while its lease has not expired and that backend still exists: a killed instance's connection
 * closes, its backend ends, and the other members take its slots at their next renewal; a frozen
 * one keeps its backend but stops renewing, and loses its slots once the lease expires. A member
 * that sees another's backend without its start time (a session of another database role), or that
 * cannot see its own (a session acting as another role than it logged in as), is known by its pid
 * alone.
 *
 * <p>Renewal is one statement (also the idle poll: it says whether the member's slots hold events).
 * It commits without waiting for the WAL fsync ({@link PostgresSlotRows#NO_FLUSH_WAIT}): a renewal
 * lost in a crash of PostgreSQL changes nothing, since the crash ends every member's backend and so
 * every member. Rebalancing is a short transaction that locks the slot table, so two members never
 * take the same slot; each takes over a new token from a sequence, which fences out the old owner.
 *
 * <p>The anchor's session is named after the member ({@link #applicationName}) while the member
 * holds it, so that {@code pg_stat_activity} shows which session is which instance's; it gets its
 * own name back when it returns to the pool. The relay's other connections, borrowed for a
 * statement or two, keep the pool's name: naming them would cost two statements per borrow.
 */
final class PostgresLeases {

  /** The longest {@code application_name} PostgreSQL keeps, in bytes (NAMEDATALEN - 1). */
  static final int MAX_APPLICATION_NAME = 63;

  /** The end of a relay's member id that tells its starts apart: a hyphen and a UUID. */
  private static final int MEMBER_ID_END = 1 + 36;

  /** Bounds a rebalance's transaction: its wait for locks, and its time idle between statements. */
  private static final String BOUND_TRANSACTION =
      "SELECT set_config('lock_timeout', ?, true),"
          + " set_config('idle_in_transaction_session_timeout', ?, true)";

  private final StoreConnections connections;
  private final TableName table;
  private final String renew;
  private final String lockSlots;
  private final String countLive;
  private final String release;
  private final String take;
  private final String forgetDead;
  private final String leaveSlots;
  private final String leaveMember;

  /** Lock wait and idle-in-transaction limit of a rebalance, in ms; 0: none. */
  private volatile long rebalanceTimeoutMillis;

  /** The member's own connection; its backend identifies the member while it lives. */
  private @Nullable Connection anchor;

  PostgresLeases(StoreConnections connections, TableName table) {
    this.connections = connections;
    this.table = table;
    String t = table.qualified();
    String members = t + "_relay";
    String slots = t + "_slot";
    // A session of another role shows its pid but no backend_start (without pg_read_all_stats),
    // and a session acting as another role than it logged in as (SET ROLE) does not see its own:
    // it registers -infinity. The pid alone then stands for the backend. A pid reused after the
    // member died only keeps the member alive until its lease expires, as if it were frozen.
    String alive =
        "(m.expires_at > now() AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = m.pid"
            + " AND (a.backend_start = m.backend_start OR a.backend_start IS NULL"
            + " OR m.backend_start = '-infinity')))";
    String heldByLiveMember =
        "(s.owner = ? OR EXISTS (SELECT 1 FROM "
            + members
            + " m WHERE m.member = s.owner AND "
            + alive
            + "))";
    this.renew =
        "WITH me AS (INSERT INTO "
            + members
            + " (member, pid, backend_start, expires_at) SELECT ?, a.pid, coalesce(a.backend_start,"
            + " '-infinity'), now() + ?"
            + " * interval '1 millisecond' FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()"
            + " ON CONFLICT (member) DO UPDATE SET pid = excluded.pid, backend_start ="
            + " excluded.backend_start, expires_at = excluded.expires_at RETURNING 1)"
            + " SELECT (SELECT count(*) FROM me), (SELECT count(*) FROM "
            + members
            + " m WHERE m.member <> ? AND "
            + alive
            + "), (SELECT count(*) FROM "
            + slots
            + " s WHERE s.owner IS NULL OR NOT "
            + heldByLiveMember
            + "), array(SELECT s.slot FROM "
            + slots
            + " s WHERE s.owner = ? ORDER BY s.slot), array(SELECT s.token FROM "
            + slots
            + " s WHERE s.owner = ? ORDER BY s.slot), EXISTS (SELECT 1 FROM "
            + slots
            + " s CROSS JOIN LATERAL (SELECT 1 FROM "
            + t
            + " e WHERE e.slot = s.slot AND e.status = 'PENDING' LIMIT 1) x WHERE s.owner = ?), "
            + PostgresSlotRows.NO_FLUSH_WAIT;
    this.lockSlots =
        "SELECT s.slot, s.owner = ?, s.owner IS NOT NULL AND "
            + heldByLiveMember
            + " FROM "
            + slots
            + " s ORDER BY s.slot FOR UPDATE OF s";
    this.countLive = "SELECT count(*) FROM " + members + " m WHERE m.member <> ? AND " + alive;
    this.release = "UPDATE " + slots + " SET owner = NULL WHERE slot = ANY(?) AND owner = ?";
    this.take =
        "UPDATE "
            + slots
            + " SET owner = ?, token = nextval('"
            + t
            + "_slot_token_seq') WHERE slot = ANY(?)";
    this.forgetDead = "DELETE FROM " + members + " m WHERE m.member <> ? AND NOT " + alive;
    this.leaveSlots = "UPDATE " + slots + " SET owner = NULL WHERE owner = ?";
    this.leaveMember = "DELETE FROM " + members + " WHERE member = ?";
  }

  /**
   * From now on a rebalance waits at most {@code timeout} for the slot table's lock, and PostgreSQL
   * ends a rebalance's session that sits idle in its transaction longer than that: a member that
   * stopped answering after it locked the slot table (its network dropped, its process froze) then
   * holds the other members up for that long, not until TCP gives the connection up.
   */
  void rebalanceTimeout(Duration timeout) {
    rebalanceTimeoutMillis = timeout.toMillis();
  }

  synchronized Leases renew(String member, Duration ttl) {
    try {
      Connection connection = anchor(member);
      try (PreparedStatement statement = connection.prepareStatement(renew)) {
        statement.setString(1, member);
        statement.setLong(2, ttl.toMillis());
        statement.setString(3, member);
        statement.setString(4, member);
        statement.setString(5, member);
        statement.setString(6, member);
        statement.setString(7, member);
        try (ResultSet rs = statement.executeQuery()) {
          rs.next();
          if (rs.getInt(1) != 1) {
            throw new OutboxException(
                "Could not register relay member " + member + ": its session is not visible");
          }
          int others = rs.getInt(2);
          int orphaned = rs.getInt(3);
          Map<Integer, Long> tokens = tokens(rs.getArray(4), rs.getArray(5));
          return new Leases(tokens, others + 1, orphaned, rs.getBoolean(6));
        }
      }
    } catch (SQLException ex) {
      dropAnchor();
      throw new OutboxException(
          "Could not renew the relay leases on " + table + ": " + ex.getMessage(), ex);
    }
  }

  synchronized Leases rebalance(String member, Duration ttl, Collection<Integer> releasing) {
    renew(member, ttl); // registers the member and checks the anchor
    Connection connection = anchor(member);
    try {
      connection.setAutoCommit(false);
      long timeout = rebalanceTimeoutMillis;
      if (timeout > 0) {
        try (PreparedStatement statement = connection.prepareStatement(BOUND_TRANSACTION)) {
          statement.setString(1, timeout + "ms");
          statement.setString(2, timeout + "ms");
          statement.execute();
        }
      }
      List<Integer> mine = new ArrayList<>();
      List<Integer> orphaned = new ArrayList<>();
      try (PreparedStatement statement = connection.prepareStatement(lockSlots)) {
        statement.setString(1, member);
        statement.setString(2, member);
        try (ResultSet rs = statement.executeQuery()) {
          while (rs.next()) {
            int slot = rs.getInt(1);
            if (rs.getBoolean(2)) {
              mine.add(slot);
            } else if (!rs.getBoolean(3)) {
              orphaned.add(slot);
            }
          }
        }
      }
      int others;
      try (PreparedStatement statement = connection.prepareStatement(countLive)) {
        statement.setString(1, member);
        try (ResultSet rs = statement.executeQuery()) {
          rs.next();
          others = rs.getInt(1);
        }
      }
      List<Integer> released = new ArrayList<>(releasing);
      released.retainAll(mine);
      if (!released.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(release)) {
          statement.setArray(1, connection.createArrayOf("int2", released.toArray()));
          statement.setString(2, member);
          statement.executeUpdate();
        }
      }
      int fair = new Leases(Map.of(), others + 1, 0, false).fairShare();
      int room = fair - (mine.size() - released.size());
      List<Integer> taken =
          room <= 0 ? List.of() : orphaned.subList(0, Math.min(room, orphaned.size()));
      if (!taken.isEmpty()) {
        try (PreparedStatement statement = connection.prepareStatement(take)) {
          statement.setString(1, member);
          statement.setArray(2, connection.createArrayOf("int2", taken.toArray()));
          statement.executeUpdate();
        }
      }
      try (PreparedStatement statement = connection.prepareStatement(forgetDead)) {
        statement.setString(1, member);
        statement.executeUpdate();
      }
      connection.commit();
      connection.setAutoCommit(true);
    } catch (SQLException ex) {
      // A lock timeout or a cancelled statement leaves the session as it was: keeping it keeps the
      // member alive in the others' eyes. A broken connection is given up.
      if (!rolledBack(connection)) {
        dropAnchor();
      }
      throw new OutboxException(
          "Could not rebalance the relay leases on " + table + ": " + ex.getMessage(), ex);
    }
    return renew(member, ttl);
  }

  synchronized void leave(String member) {
    try {
      Connection connection = anchor(member);
      try (PreparedStatement slots = connection.prepareStatement(leaveSlots);
          PreparedStatement members = connection.prepareStatement(leaveMember)) {
        slots.setString(1, member);
        slots.executeUpdate();
        members.setString(1, member);
        members.executeUpdate();
      }
    } catch (SQLException | RuntimeException ex) {
      throw new OutboxException(
          "Could not release the relay leases on " + table + ": " + ex.getMessage(), ex);
    } finally {
      dropAnchor();
    }
  }

  private Connection anchor(String member) {
    if (anchor != null) {
      return anchor;
    }
    try {
      // At read committed: a rebalance that waited for another's lock on the slot table must then
      // see the slots as they are, whatever the database's default isolation; under repeatable
      // read or serializable it would fail with a serialization error instead.
      Connection connection = connections.autocommit(applicationName(member));
      anchor = connection;
      return connection;
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not connect to the database for the relay leases: " + ex.getMessage(), ex);
    }
  }

  /**
   * The {@code application_name} of {@code member}'s anchor: the member id, within PostgreSQL's 63
   * bytes. Characters other than printable ASCII become {@code ?} (as PostgreSQL before 16 shows
   * them; 16 and later would spell them as longer escapes). A longer id loses characters from its
   * middle: its start (the relay's name, the host) is cut to fit, its end (the hyphen and the UUID
   * a relay's member id ends with) stays whole, so the name still tells the instances apart.
   */
  static String applicationName(String member) {
    String ascii = member.replaceAll("[^\\x20-\\x7E]", "?");
    if (ascii.length() <= MAX_APPLICATION_NAME) {
      return ascii;
    }
    return ascii.substring(0, MAX_APPLICATION_NAME - MEMBER_ID_END)
        + ascii.substring(ascii.length() - MEMBER_ID_END);
  }

  /** Whether the failed rebalance's transaction was rolled back on a connection still usable. */
  private static boolean rolledBack(Connection connection) {
    try {
      if (connection.isClosed()) {
        return false;
      }
      connection.rollback();
      connection.setAutoCommit(true);
      return true;
    } catch (SQLException | RuntimeException ex) {
      return false;
    }
  }

  /** Gives the anchor back after a failure: the next call registers a new backend. */
  private void dropAnchor() {
    Connection connection = anchor;
    anchor = null;
    if (connection != null) {
      PostgresOutboxRepository.rollbackAndClose(connection);
    }
  }

  private static Map<Integer, Long> tokens(Array slots, Array tokens) throws SQLException {
    Object[] s = (Object[]) slots.getArray();
    Object[] t = (Object[]) tokens.getArray();
    Map<Integer, Long> result = new HashMap<>(s.length * 2);
    for (int i = 0; i < s.length; i++) {
      result.put(((Number) s[i]).intValue(), ((Number) t[i]).longValue());
    }
    return result;
  }
}
