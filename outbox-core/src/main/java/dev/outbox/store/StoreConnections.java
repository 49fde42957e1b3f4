package dev.outbox.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
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
 * <p>The relay's connections are also bounded by a {@link #bound(Duration) database timeout}: each
 * statement made on them is cancelled by the server once it has run that long (the driver's query
 * timeout, which sends a cancel request), and the connection gives up on an answer after that time
 * and a grace for the cancel ({@link #CANCEL_GRACE}; the driver's socket timeout, set for as long
 * as the library holds the connection and set back before it returns to the pool). A statement held
 * up in the database (a lock) then ends there too, instead of waiting on in a session the relay
 * left; a connection whose server stopped answering (a network that drops packets, a frozen server)
 * fails and is discarded, where it would otherwise wait for TCP to give up, which takes from
 * minutes to hours.
 */
final class StoreConnections {

  private static final Logger log = LoggerFactory.getLogger(StoreConnections.class);

  private static final int UNKNOWN = -1;

  private static final Executor DIRECT = Runnable::run;

  /** How much longer than the database timeout a connection waits for an answer. */
  static final Duration CANCEL_GRACE = Duration.ofSeconds(2);

  /** A network timeout that {@link #restore} leaves as it is. */
  private static final int KEEP = -1;

  private final DataSource dataSource;
  private volatile int defaultIsolation = UNKNOWN;
  private volatile int queryTimeoutSeconds;
  private volatile int networkTimeoutMillis;

  StoreConnections(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Bounds the statements and the connections handed out from now on by {@code databaseTimeout}
   * (rounded up to whole seconds); {@link Duration#ZERO} (the default) bounds nothing.
   */
  void bound(Duration databaseTimeout) {
    long seconds = (databaseTimeout.toMillis() + 999) / 1000;
    queryTimeoutSeconds = (int) Math.min(Integer.MAX_VALUE / 1000 - 60, seconds);
    networkTimeoutMillis =
        seconds == 0 ? 0 : (int) (queryTimeoutSeconds * 1000L + CANCEL_GRACE.toMillis());
  }

  /** A connection for statements that each commit on their own. */
  Connection autocommit() throws SQLException {
    return borrow(true);
  }

  /** A connection for a transaction of the library's own; the caller commits or rolls back. */
  Connection transaction() throws SQLException {
    return borrow(false);
  }

  private Connection borrow(boolean autoCommit) throws SQLException {
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
      int query = queryTimeoutSeconds;
      if (!stricter && autoCommitBefore == autoCommit && network == 0) {
        return connection;
      }
      return restoringOnClose(
          connection,
          stricter ? isolation : UNKNOWN,
          autoCommitBefore,
          shorten ? networkBefore : KEEP,
          query);
    } catch (SQLException | RuntimeException ex) {
      PostgresOutboxRepository.closeQuietly(connection);
      throw ex;
    }
  }

  /**
   * {@code connection}, whose {@code close()} first ends any open transaction and sets back the
   * isolation (unless {@code isolation} is {@link #UNKNOWN}), the auto-commit and the network
   * timeout (unless {@link #KEEP}) it had, and whose statements get {@code queryTimeout} seconds
   * (unless 0).
   */
  private static Connection restoringOnClose(
      Connection connection,
      int isolation,
      boolean autoCommit,
      int networkTimeout,
      int queryTimeout) {
    return (Connection)
        Proxy.newProxyInstance(
            StoreConnections.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              String name = method.getName();
              if (name.equals("close") && method.getParameterCount() == 0) {
                if (restore(connection, isolation, autoCommit, networkTimeout)) {
                  connection.close();
                } else {
                  PostgresOutboxRepository.closeQuietly(connection);
                }
                return null;
              }
              Object result;
              try {
                result = method.invoke(connection, args);
              } catch (InvocationTargetException ex) {
                throw ex.getCause();
              }
              if (queryTimeout > 0
                  && result instanceof Statement statement
                  && (name.equals("createStatement")
                      || name.equals("prepareStatement")
                      || name.equals("prepareCall"))) {
                statement.setQueryTimeout(queryTimeout);
              }
              return result;
            });
  }

  /** Whether the connection got its settings back; if not, it was aborted. */
  private static boolean restore(
      Connection connection, int isolation, boolean autoCommit, int networkTimeout) {
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
      try {
        connection.abort(Runnable::run);
      } catch (SQLException | RuntimeException abortFailed) {
        log.debug("Could not abort the connection: {}", abortFailed.toString());
      }
      return false;
    }
  }
}
