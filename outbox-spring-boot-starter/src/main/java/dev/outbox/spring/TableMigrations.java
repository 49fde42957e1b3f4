package dev.outbox.spring;

import dev.outbox.OutboxException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Flyway migrations of a table the library owns (the outbox table, the inbox table) with a
 * history table of its own, so they never mix with the application's migrations. Used by the
 * library's schema initializers; not meant for applications.
 */
public final class TableMigrations {

  private static final Logger log = LoggerFactory.getLogger(TableMigrations.class);

  /** The first key of the migration lock (the second is the table's bare name, hashed). */
  private static final int LOCK_CLASS = "dev.outbox:migrations".hashCode();

  private TableMigrations() {}

  /**
   * Applies the migrations at {@code location} that have not run yet. The history table is {@code
   * <table>_schema_history} in the table's schema. A schema that already holds other tables (the
   * application's) and no history yet is baselined at version 0, so that Flyway starts there
   * instead of refusing the non-empty schema, and every migration still runs once.
   *
   * <p>Instances starting at once migrate one after the other: each holds a transaction-level
   * advisory lock on the table's bare name for its whole run (bare, so that instances naming the
   * schema and instances relying on the search path take the same lock; same-named tables in other
   * schemas then merely migrate one after the other). Flyway's own lock covers the migrations but
   * not its first look at the schema: an instance that looked while another had just created the
   * history table found the schema not empty, tried to baseline it, and failed ("Unable to baseline
   * schema history table … as it already exists, and is empty"). A transaction-level lock also
   * holds behind a pooler in transaction mode, which keeps the transaction on one server
   * connection. The lock takes a connection of its own: a run needs three at once, with Flyway's
   * two.
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
    String name = (schema == null ? "" : schema + ".") + table;
    Connection lock;
    try {
      lock = dataSource.getConnection();
    } catch (SQLException ex) {
      throw new OutboxException("Could not migrate " + name + ": " + ex.getMessage(), ex);
    }
    try {
      lockFor(lock, table, name);
      return flyway(dataSource, location, schema, table, placeholders).migrate().migrationsExecuted;
    } catch (RuntimeException ex) {
      if (isConnectionFailure(ex) && !refusedByTheServer(ex) && answers(lock)) {
        throw new PoolTooSmallException(name, ex);
      }
      throw ex;
    } finally {
      // Ends the transaction, and with it the lock; it changed nothing. A failure here (the
      // session already gone) must not hide the migration's own outcome.
      try {
        lock.rollback();
      } catch (SQLException ex) {
        log.debug("Ending the migration lock of {} failed: {}", name, ex.toString());
      }
      try {
        lock.close();
      } catch (SQLException ex) {
        log.debug("Closing the migration lock's connection of {} failed: {}", name, ex.toString());
      }
    }
  }

  private static Flyway flyway(
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
        .load();
  }

  /**
   * Whether the server refused the connection for want of connection slots (SQL state 53300, {@code
   * max_connections} reached): then a larger pool is not the answer.
   */
  private static boolean refusedByTheServer(Throwable failure) {
    for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof SQLException sql && "53300".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /** Whether the lock's connection still answers: the database is up. */
  private static boolean answers(Connection lock) {
    try {
      return lock.isValid(5);
    } catch (SQLException ex) {
      return false;
    }
  }

  /**
   * The data source gave Flyway no connection while the migration held one and the database
   * answered on it: the pool is too small for a migration, not the database down (so the starter
   * fails startup instead of waiting for the database).
   */
  static final class PoolTooSmallException extends OutboxException {
    PoolTooSmallException(String name, RuntimeException failure) {
      super(
          "Could not migrate "
              + name
              + ": the DataSource gave the migration no further connection while it held one,"
              + " though the database answers ("
              + failure.getMessage()
              + "). A migration needs three connections at once (its lock and Flyway's two):"
              + " size the pool for the application plus about five"
              + " (spring.datasource.hikari.maximum-pool-size), or create the table yourself"
              + " (docs/schema.md) and set outbox.migration.enabled=false.",
          failure);
    }
  }

  /**
   * Takes the migration lock of {@code table} in a transaction on {@code lock}, waiting for another
   * instance's migration if need be (said once at INFO, with the {@code name} the run migrates).
   * The transaction stays idle while Flyway works on its own connections, so the server must not
   * end it for idling.
   */
  private static void lockFor(Connection lock, String table, String name) {
    try {
      lock.setAutoCommit(false);
      try (PreparedStatement statement =
          lock.prepareStatement("SET LOCAL idle_in_transaction_session_timeout = 0")) {
        statement.execute();
      }
      boolean taken;
      try (PreparedStatement tryLock = lockStatement(lock, "pg_try_advisory_xact_lock", table);
          ResultSet rs = tryLock.executeQuery()) {
        taken = rs.next() && rs.getBoolean(1);
      }
      if (!taken) {
        log.info("Waiting for another instance's migration of {}", name);
        try (PreparedStatement waitForLock = lockStatement(lock, "pg_advisory_xact_lock", table)) {
          waitForLock.execute();
        }
      }
    } catch (SQLException ex) {
      throw new OutboxException(
          "Could not take the migration lock of " + name + ": " + ex.getMessage(), ex);
    }
  }

  private static PreparedStatement lockStatement(Connection lock, String function, String table)
      throws SQLException {
    PreparedStatement statement = lock.prepareStatement("SELECT " + function + "(?, hashtext(?))");
    statement.setInt(1, LOCK_CLASS);
    statement.setString(2, table);
    return statement;
  }

  /**
   * Whether the failure, or one of its causes, is the database not answering (a refused or lost
   * connection, SQL state class 08) rather than a problem with the table itself.
   */
  public static boolean isConnectionFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof PoolTooSmallException) {
        return false;
      }
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
