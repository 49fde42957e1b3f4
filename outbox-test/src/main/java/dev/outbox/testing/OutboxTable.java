package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.store.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The outbox table as a test sees it: the events written and not yet published ({@link #pending()})
 * and the dead-lettered ones ({@link #dead()}). Reads on the test's own transaction when one is
 * active (a {@code @Transactional} test sees what it wrote before it rolls back), on a connection
 * of its own otherwise.
 */
public class OutboxTable {

  private static final TypeReference<Map<String, String>> HEADERS = new TypeReference<>() {};

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final DataSource dataSource;
  private final TableName table;

  public OutboxTable(DataSource dataSource, TableName table) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.table = Objects.requireNonNull(table, "table");
  }

  /** The events written and not yet published (including those waiting for a retry). */
  public OutboxEvents pending() {
    return OutboxEvents.of(rows("PENDING", false).stream().map(Row::event).toList());
  }

  /**
   * The pending events that the transaction active on this thread wrote and has not committed, in
   * write order; empty outside a transaction.
   */
  List<OutboxEvent> uncommitted() {
    if (!TransactionSynchronizationManager.isActualTransactionActive()) {
      return List.of();
    }
    Set<UUID> committed = new HashSet<>();
    for (Row row : rows("PENDING", true)) {
      committed.add(row.event().id());
    }
    return rows("PENDING", false).stream()
        .map(Row::event)
        .filter(event -> !committed.contains(event.id()))
        .toList();
  }

  /** The dead-lettered events still in the table. */
  public OutboxEvents dead() {
    return OutboxEvents.of(rows("DEAD", false).stream().map(Row::event).toList());
  }

  /**
   * Deletes every event row, pending and dead: a clean table for the next test. Do not call it on a
   * database other applications use.
   */
  public int deleteAll() {
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try (PreparedStatement statement =
        connection.prepareStatement("DELETE FROM " + table.qualified())) {
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw new OutboxException("Could not delete the rows of " + table + ": " + e.getMessage(), e);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  /** The name of the table this reads. */
  public TableName tableName() {
    return table;
  }

  /**
   * Rows with one status, in write order, with the last error of each.
   *
   * @param committedOnly read on a connection of its own, outside any transaction of the test, so
   *     only committed rows count
   */
  List<Row> rows(String status, boolean committedOnly) {
    String sql =
        "SELECT id, seq, destination, event_key, aggregate_type, event_type, event_version,"
            + " payload, headers::text, created_at, attempts, last_error,"
            + " (SELECT d.id FROM "
            + table.qualified()
            + " d WHERE d.status = 'DEAD' AND d.event_key = e.event_key AND d.seq < e.seq"
            + " ORDER BY d.seq LIMIT 1) FROM "
            + table.qualified()
            + " e WHERE status = ? ORDER BY seq";
    Connection connection = connection(committedOnly);
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, status);
      List<Row> rows = new ArrayList<>();
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          rows.add(row(result));
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new OutboxException(
          "Could not read the outbox table " + table + ": " + e.getMessage(), e);
    } finally {
      release(connection, committedOnly);
    }
  }

  private Connection connection(boolean own) {
    if (!own) {
      return DataSourceUtils.getConnection(dataSource);
    }
    try {
      return dataSource.getConnection();
    } catch (SQLException e) {
      throw new OutboxException("Could not connect to read " + table + ": " + e.getMessage(), e);
    }
  }

  private void release(Connection connection, boolean own) {
    if (!own) {
      DataSourceUtils.releaseConnection(connection, dataSource);
      return;
    }
    try {
      connection.close();
    } catch (SQLException e) {
      // Nothing was changed on it; the pool replaces a broken connection.
    }
  }

  private static Row row(ResultSet result) throws SQLException {
    OutboxEvent event =
        new OutboxEvent(
            result.getObject(1, UUID.class),
            result.getLong(2),
            result.getString(3),
            result.getString(4),
            result.getString(5),
            result.getString(6),
            result.getInt(7),
            result.getString(8),
            JSON.readValue(result.getString(9), HEADERS),
            result.getTimestamp(10).toInstant(),
            result.getInt(11));
    return new Row(event, result.getString(12), result.getObject(13, UUID.class));
  }

  /**
   * An event row with its last delivery error, or {@code null} if it has none, and the earliest
   * dead event of its key written before it, or {@code null} if there is none.
   */
  record Row(OutboxEvent event, @Nullable String lastError, @Nullable UUID deadBefore) {

    String describe() {
      String line = OutboxEvents.describe(event);
      if (event.attempts() > 0) {
        line += " attempts=" + event.attempts() + " lastError=" + lastError;
      }
      if (deadBefore != null) {
        line +=
            " (behind the dead event "
                + deadBefore
                + " of its key: with outbox.relay.dead-event-blocks-key=true it waits until that"
                + " one is replayed or discarded)";
      }
      return line;
    }
  }
}
