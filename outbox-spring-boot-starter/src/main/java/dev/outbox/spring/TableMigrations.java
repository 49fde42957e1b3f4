package dev.outbox.spring;

import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jspecify.annotations.Nullable;

/**
 * Runs the Flyway migrations of a table the library owns (the outbox table, the inbox table) with a
 * history table of its own, so they never mix with the application's migrations. Used by the
 * library's schema initializers; not meant for applications.
 */
public final class TableMigrations {

  /** The first key of the migration lock (the second is the table's name, hashed). */
  private static final int LOCK_CLASS = "dev.outbox:migrations".hashCode();

  private TableMigrations() {}

  /**
   * Applies the migrations at {@code location} that have not run yet. The history table is {@code
   * <table>_schema_history} in the table's schema. A schema that already holds other tables (the
   * application's) and no history yet is baselined at version 0, so that Flyway starts there
   * instead of refusing the non-empty schema, and every migration still runs once.
   *
   * <p>Instances starting at once migrate one after the other: each holds a transaction-level
   * advisory lock on the table's name for its whole run. Flyway's own lock covers the migrations
   * but not its first look at the schema: an instance that looked while another had just created
   * the history table found the schema not empty, tried to baseline it, and failed ("Unable to
   * baseline schema history table … as it already exists, and is empty"). A transaction-level lock
   * also holds behind a pooler in transaction mode, which keeps the transaction on one server
   * connection.
   *
   * @param placeholders the values of the migration scripts' placeholders (the table's names)
   * @return how many migrations ran
   */
  public static int migrate(
      DataSource dataSource,
      String location,
      @Nullable String schema,
      String table,
      Map<String, String> placeholders) {
    try (Connection lock = dataSource.getConnection()) {
      lock.setAutoCommit(false);
      try {
        try (PreparedStatement statement =
            lock.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(?))")) {
          statement.setInt(1, LOCK_CLASS);
          statement.setString(2, (schema == null ? "" : schema + ".") + table);
          statement.execute();
        }
        return Flyway.configure()
            .dataSource(dataSource)
            .locations(location)
            .table(table + "_schema_history")
            .placeholders(placeholders)
            .schemas(schema == null ? new String[0] : new String[] {schema})
            .baselineOnMigrate(true)
            .baselineVersion("0")
            .load()
            .migrate()
            .migrationsExecuted;
      } finally {
        lock.rollback(); // ends the transaction and with it the lock; it changed nothing
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not take the migration lock of "
              + (schema == null ? "" : schema + ".")
              + table
              + ": "
              + ex.getMessage(),
          ex);
    }
  }

  /**
   * Whether the failure, or one of its causes, is the database not answering (a refused or lost
   * connection, SQL state class 08) rather than a problem with the table itself.
   */
  public static boolean isConnectionFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException || t instanceof java.net.ConnectException) {
        return true;
      }
      if (t instanceof SQLException sql
          && sql.getSQLState() != null
          && sql.getSQLState().startsWith("08")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
