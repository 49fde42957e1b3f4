package dev.outbox.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of the library's own statements (the relay's reads and completions, the lease
 * anchor, statistics, dead-event operations), never the application's: each runs at read committed,
 * whatever the default isolation of the database, the role or the pool.
 *
 * <p>Under a default of repeatable read or serializable, the deletion of a published batch failed
 * with "could not serialize access due to read/write dependencies" while writers committed, and its
 * events were published again; writers' commits failed with the same error. At read committed a
 * statement of the relay sees every row committed before it starts, which is all its fencing and
 * ordering rely on (the leases and the writers' key locks, not the isolation level, keep two
 * instances and two writers apart).
 *
 * <p>A connection whose isolation or auto-commit this changes gets both back when it is closed,
 * before it returns to the pool: not every pool resets them, and the application's next transaction
 * on that connection must run as the application set it up. If that fails, the connection is
 * aborted, so that the pool drops it instead of handing it out changed. Connections already in
 * auto-commit at read committed are handed out as they are. The default isolation is read on the
 * first connection; after that a connection costs nothing extra in the usual case, and otherwise
 * two statements (the change and the restore).
 *
 * <p>The relay's connections are also bounded by a {@link #bound(Duration) database timeout}: the
 * connection gives up on an answer after that time (the driver's socket timeout, set first when the
 * library borrows the connection, for as long as it holds it, and set back before it returns to the
 * pool; a shorter one the application configured stays). A connection whose server stopped
 * answering (a network that drops packets, a frozen server) then fails and is discarded, where it
 * would otherwise wait for TCP to give up, which takes from minutes to hours. The server may still
 * be working on the statement the relay gave up on (waiting for a lock, say): on PostgreSQL 14 and
 * later each such connection asks the server once to check every {@link #CLIENT_CHECK_INTERVAL}
 * that its client is still there while a statement runs ({@code client_connection_check_interval},
 * a session setting that stays with the pooled connection), so the server ends that session within
 * a second instead of after the lock, and retries cannot pile up sessions. The driver's query
 * timeout is not used: its cancel runs on a timer the driver shares with the application, holds the
 * connection while it connects, and can reach a later statement on the same session.
 *
 * <p>A connection held for long under a name of its own (the lease anchor, named after its relay
 * member) gets that {@code application_name} while the library holds it, so that {@code
 * pg_stat_activity} tells the instances apart, and the name it had when it goes back to the pool,
 * as the isolation and the auto-commit.
 */
final class StoreConnections {

  private static final Logger log = LoggerFactory.getLogger(StoreConnections.class);

  private static final int UNKNOWN = -1;

  private static final Executor DIRECT = Runnable::run;

  /** How often the server checks that the client of a bounded connection is still there. */
  static final Duration CLIENT_CHECK_INTERVAL = Duration.ofSeconds(1);

  /** A network timeout that {@link #restore} leaves as it is. */
  private static final int KEEP = -1;

  /** The JDBC client info property that pgjdbc maps to {@code application_name}. */
  private static final String APPLICATION_NAME = "ApplicationName";

  private final DataSource dataSource;
  private volatile int defaultIsolation = UNKNOWN;
  private volatile int networkTimeoutMillis;

  /** The physical connections already asked to check their client; weak: closed ones go. */
  private final Set<Object> clientChecked =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  /** False once the server refused the setting (before PostgreSQL 14). */
  private volatile boolean clientCheckSupported = true;

  StoreConnections(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Bounds the connections handed out from now on by {@code databaseTimeout}; {@link Duration#ZERO}
   * (the default) bounds nothing.
   */
  void bound(Duration databaseTimeout) {
    networkTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, databaseTimeout.toMillis());
  }

  /** A connection for statements that each commit on their own. */
  Connection autocommit() throws SQLException {
    return borrow(true, null);
  }

  /**
   * A connection for statements that each commit on their own, whose session is known as {@code
   * applicationName} in {@code pg_stat_activity} until it is closed (PostgreSQL keeps the first 63
   * bytes).
   */
  Connection autocommit(String applicationName) throws SQLException {
    return borrow(true, applicationName);
  }

  /** A connection for a transaction of the library's own; the caller commits or rolls back. */
  Connection transaction() throws SQLException {
    return borrow(false, null);
  }

  private Connection borrow(boolean autoCommit, @Nullable String applicationName)
      throws SQLException {
    Connection connection = dataSource.getConnection();
    try {
      // First, so that even the settings below cannot wait for ever
      // (A shorter one the application configured, pgjdbc's socketTimeout say, stays)
      int network = networkTimeoutMillis;
      int networkBefore = network == 0 ? KEEP : connection.getNetworkTimeout();
      boolean shorten = network != 0 && (networkBefore == 0 || networkBefore > network);
      if (shorten) {
        connection.setNetworkTimeout(DIRECT, network);
      }
      boolean autoCommitBefore = connection.getAutoCommit();
      int isolation = defaultIsolation;
      if (isolation == UNKNOWN) {
        isolation = connection.getTransactionIsolation();
        defaultIsolation = isolation;
      }
      // Read uncommitted runs as read committed in PostgreSQL
      boolean stricter =
          isolation == Connection.TRANSACTION_REPEATABLE_READ
              || isolation == Connection.TRANSACTION_SERIALIZABLE;
      if (stricter) {
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
      }
      if (autoCommitBefore != autoCommit) {
        connection.setAutoCommit(autoCommit);
      }
      if (network != 0 && autoCommit) {
        checkClientOnce(connection);
      }
      // After auto-commit is on: the name is the session's, not a transaction's that may roll back
      String nameBefore = null;
      if (applicationName != null) {
        String current = connection.getClientInfo(APPLICATION_NAME);
        if (!applicationName.equals(current)) {
          connection.setClientInfo(APPLICATION_NAME, applicationName);
          nameBefore = current == null ? "" : current;
        }
      }
      if (!stricter && autoCommitBefore == autoCommit && !shorten && nameBefore == null) {
        return connection;
      }
      return restoringOnClose(
          connection,
          stricter ? isolation : UNKNOWN,
          autoCommitBefore,
          shorten ? networkBefore : KEEP,
          nameBefore);
    } catch (SQLException | RuntimeException ex) {
      // Some of the settings above may be made already: the pool must not get it back so
      abort(connection);
      PostgresOutboxRepository.closeQuietly(connection);
      throw ex;
    }
  }

  /**
   * Asks the server, once per physical connection, to check that the client of a running statement
   * is still there, so that it ends a session whose statement the relay gave up on.
   */
  private void checkClientOnce(Connection connection) throws SQLException {
    if (!clientCheckSupported) {
      return;
    }
    Object physical = connection.unwrap(PGConnection.class);
    if (!clientChecked.add(physical)) {
      return;
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "SET client_connection_check_interval = " + CLIENT_CHECK_INTERVAL.toMillis());
    } catch (SQLException ex) {
      if ("42704".equals(ex.getSQLState())) { // unrecognized configuration parameter
        clientCheckSupported = false; // before PostgreSQL 14
        log.debug("The database has no client_connection_check_interval: {}", ex.getMessage());
        return;
      }
      clientChecked.remove(physical);
      throw ex;
    }
  }

  /**
   * {@code connection}, whose {@code close()} first ends any open transaction and sets back the
   * isolation (unless {@code isolation} is {@link #UNKNOWN}), the application name (unless null),
   * the auto-commit and the network timeout (unless {@link #KEEP}) it had.
   */
  private static Connection restoringOnClose(
      Connection connection,
      int isolation,
      boolean autoCommit,
      int networkTimeout,
      @Nullable String applicationName) {
    return (Connection)
        Proxy.newProxyInstance(
            StoreConnections.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                if (restore(connection, isolation, autoCommit, networkTimeout, applicationName)) {
                  connection.close();
                } else {
                  PostgresOutboxRepository.closeQuietly(connection);
                }
                return null;
              }
              try {
                return method.invoke(connection, args);
              } catch (InvocationTargetException ex) {
                throw ex.getCause();
              }
            });
  }

  /** Whether the connection got its settings back; if not, it was aborted. */
  private static boolean restore(
      Connection connection,
      int isolation,
      boolean autoCommit,
      int networkTimeout,
      @Nullable String applicationName) {
    try {
      if (connection.isClosed()) {
        return true;
      }
      if (!connection.getAutoCommit()) {
        connection.rollback();
      }
      if (isolation != UNKNOWN) {
        connection.setTransactionIsolation(isolation);
      }
      if (applicationName != null) {
        // pgjdbc sends this SET outside any transaction, also with auto-commit off (no BEGIN)
        connection.setClientInfo(APPLICATION_NAME, applicationName);
      }
      if (connection.getAutoCommit() != autoCommit) {
        connection.setAutoCommit(autoCommit);
      }
      if (networkTimeout != KEEP && connection.getNetworkTimeout() != networkTimeout) {
        connection.setNetworkTimeout(DIRECT, networkTimeout);
      }
      return true;
    } catch (SQLException | RuntimeException ex) {
      // The work on it is done (or failed on its own); only the pool must not get it back changed
      log.debug("Could not restore a connection's settings; dropping it: {}", ex.toString());
      abort(connection);
      return false;
    }
  }

  /** Ends the connection's session, so that a pool drops the connection instead of reusing it. */
  private static void abort(Connection connection) {
    try {
      connection.abort(Runnable::run);
    } catch (SQLException | RuntimeException abortFailed) {
      log.debug("Could not abort the connection: {}", abortFailed.toString());
    }
  }
}
