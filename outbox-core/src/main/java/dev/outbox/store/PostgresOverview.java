package dev.outbox.store;

import dev.outbox.OutboxException;
import dev.outbox.store.OutboxRepository.Backlog;
import dev.outbox.store.OutboxRepository.DeadGroup;
import dev.outbox.store.OutboxRepository.DeadGroups;
import dev.outbox.store.OutboxRepository.DestinationBacklog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The operator's overview of the table: pending events per destination and dead events in groups.
 * Each is one statement whose cost is bounded by its limits, not by the size of the backlog: the
 * backlog reads the oldest pending rows of each slot through the {@code (slot, seq)} index of
 * pending rows, the groups the most recent dead rows through the {@code (dead_at, seq)} index of
 * dead rows.
 */
final class PostgresOverview {

  private final StoreConnections connections;
  private final TableName table;

  PostgresOverview(StoreConnections connections, TableName table) {
    this.connections = connections;
    this.table = table;
  }

  Backlog backlog(int perSlotLimit) {
    if (perSlotLimit < 1) {
      throw new OutboxException("Backlog rows per slot must be at least 1, was " + perSlotLimit);
    }
    // One row more than the limit per slot tells whether the slot holds more than the limit.
    String sql =
        "SELECT o.destination, count(*) FILTER (WHERE o.n <= ?),"
            + " min(o.created_at) FILTER (WHERE o.n <= ?), bool_or(o.n > ?)"
            + " FROM generate_series(0, "
            + (RelayStore.SLOTS - 1)
            + ") AS g(slot) CROSS JOIN LATERAL (SELECT e.destination, e.created_at,"
            + " row_number() OVER (ORDER BY e.seq) AS n FROM "
            + table.qualified()
            + " e WHERE e.slot = g.slot AND e.status = 'PENDING' ORDER BY e.seq LIMIT ?) o"
            + " GROUP BY o.destination";
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setInt(1, perSlotLimit);
      statement.setInt(2, perSlotLimit);
      statement.setInt(3, perSlotLimit);
      statement.setInt(4, perSlotLimit + 1);
      List<DestinationBacklog> destinations = new ArrayList<>();
      boolean complete = true;
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          long pending = rs.getLong(2);
          if (rs.getBoolean(4)) {
            complete = false;
          }
          if (pending > 0) {
            destinations.add(
                new DestinationBacklog(rs.getString(1), pending, rs.getTimestamp(3).toInstant()));
          }
        }
      }
      destinations.sort(
          Comparator.comparingLong(DestinationBacklog::pending)
              .reversed()
              .thenComparing(DestinationBacklog::destination));
      return new Backlog(List.copyOf(destinations), complete);
    } catch (SQLException ex) {
      throw new OutboxException("Could not read the backlog per destination from " + table, ex);
    }
  }

  DeadGroups deadGroups(int scanLimit, int groupLimit) {
    if (scanLimit < 1 || groupLimit < 1) {
      throw new OutboxException(
          "Dead group limits must be at least 1, were scanLimit="
              + scanLimit
              + ", groupLimit="
              + groupLimit);
    }
    // The window sums run over the groups before the LIMIT: how many rows were read, how many
    // groups they formed.
    String sql =
        "SELECT d.destination, d.event_type, d.error, count(*), min(d.dead_at), max(d.dead_at),"
            + " sum(count(*)) OVER (), count(*) OVER ()"
            + " FROM (SELECT destination, event_type, left(coalesce(last_error, ''), "
            + OutboxRepository.DEAD_GROUP_ERROR_LENGTH
            + ") AS error, "
            + PostgresDeadEvents.DEAD_AT
            + " AS dead_at FROM "
            + table.qualified()
            + " WHERE status = 'DEAD' ORDER BY "
            + PostgresDeadEvents.DEAD_AT
            + " DESC, seq DESC LIMIT ?) d"
            + " GROUP BY d.destination, d.event_type, d.error"
            + " ORDER BY count(*) DESC, d.destination, d.event_type, d.error LIMIT ?";
    try (Connection connection = connections.autocommit();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setInt(1, scanLimit);
      statement.setInt(2, groupLimit);
      List<DeadGroup> groups = new ArrayList<>();
      boolean complete = true;
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          groups.add(
              new DeadGroup(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getLong(4),
                  instant(rs, 5),
                  instant(rs, 6)));
          if (rs.getLong(7) >= scanLimit || rs.getLong(8) > groupLimit) {
            complete = false;
          }
        }
      }
      return new DeadGroups(List.copyOf(groups), complete);
    } catch (SQLException ex) {
      throw new OutboxException("Could not read the dead event groups from " + table, ex);
    }
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    return rs.getTimestamp(column).toInstant();
  }
}
