package dev.outbox.inbox;

import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import javax.sql.DataSource;

/** The inbox table in PostgreSQL: records handled ids and deletes expired ones. */
public final class PostgresInboxStore {

  private final DataSource dataSource;
  private final InboxTable table;
  private final String insert;
  private final String deleteBatch;
  private final String verify;

  public PostgresInboxStore(DataSource dataSource, InboxTable table) {
    this.dataSource = dataSource;
    this.table = table;
    String name = table.qualified();
    this.insert =
        "INSERT INTO " + name + " (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING";
    this.deleteBatch =
        "DELETE FROM "
            + name
            + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM "
            + name
            + " WHERE handled_at < ? LIMIT ? FOR UPDATE SKIP LOCKED))";
    this.verify = "SELECT consumer, message_id, handled_at FROM " + name + " WHERE false";
  }

  public InboxTable table() {
    return table;
  }

  /**
   * Records that {@code consumer} handles {@code messageId}, on {@code connection} (the caller's
   * transaction). If another open transaction recorded the same pair, PostgreSQL makes this call
   * wait until that transaction ends.
   *
   * @return {@code true} if recorded now, {@code false} if the pair was already recorded
   */
  public boolean record(Connection connection, String consumer, String messageId) {
    try (PreparedStatement statement = connection.prepareStatement(insert)) {
      statement.setString(1, consumer);
      statement.setString(2, messageId);
      return statement.executeUpdate() == 1;
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not record message "
              + messageId
              + " of consumer "
              + consumer
              + " in the inbox table "
              + table
              + ": "
              + ex.getMessage(),
          ex);
    }
  }

  /**
   * Deletes at most {@code limit} ids handled before {@code cutoff}, in one short transaction of
   * its own; rows another cleaner is deleting are skipped.
   *
   * @return the number of rows deleted
   */
  public int deleteHandledBefore(Instant cutoff, int limit) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(deleteBatch)) {
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      statement.setTimestamp(1, Timestamp.from(cutoff));
      statement.setInt(2, limit);
      return statement.executeUpdate();
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not delete expired rows of the inbox table " + table + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * Checks that the table exists with the expected columns.
   *
   * @throws OutboxException naming the table and what to do, if it does not
   */
  public void verifySchema() {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(verify);
        ResultSet ignored = statement.executeQuery()) {
      // the query compiles, so the table and its columns exist
    } catch (SQLException ex) {
      if (!isMissing(ex)) {
        // The database did not answer, or refused the query: say so, not that the table is missing
        throw new OutboxException(
            "Could not check the inbox table " + table + ": " + ex.getMessage(), ex);
      }
      throw new OutboxException(
          "The inbox table "
              + table
              + " is missing or incomplete ("
              + ex.getMessage()
              + "). Create it with the DDL of dev.outbox.inbox.InboxSchema (see docs/consumers.md),"
              + " or set outbox.inbox.migration.enabled=true to let the library create it.",
          ex);
    }
  }

  /**
   * Whether the check's query failed because the table (or its schema) or one of its columns does
   * not exist (SQLSTATE {@code 42P01}, {@code 42703}).
   */
  private static boolean isMissing(SQLException failure) {
    String state = failure.getSQLState();
    return "42P01".equals(state) || "42703".equals(state);
  }
}
