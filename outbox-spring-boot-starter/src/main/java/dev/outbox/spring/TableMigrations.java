package dev.outbox.spring;

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

  private TableMigrations() {}

  /**
   * Applies the migrations at {@code location} that have not run yet. The history table is {@code
   * <table>_schema_history} in the table's schema. A schema that already holds other tables (the
   * application's) and no history yet is baselined at version 0, so that Flyway starts there
   * instead of refusing the non-empty schema, and every migration still runs once.
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
