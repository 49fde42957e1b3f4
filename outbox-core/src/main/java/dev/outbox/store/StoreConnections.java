package dev.outbox.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The connections of the library's own statements (the relay's reads and completions, statistics,
 * dead-event operations), never the application's: each runs at read committed, whatever the
 * default isolation of the database, the role or the pool.
 *
 * <p>Under a default of repeatable read or serializable, the deletion of a published batch failed
 * with "could not serialize access due to read/write dependencies" while writers committed, and its
 * events were published again; writers' commits failed with the same error. At read committed a
 * statement of the relay sees every row committed before it starts, which is all its fencing and
 * ordering rely on (the leases and the writers' key locks, not the isolation level, keep two
 * instances and two writers apart).
 *
 * <p>A connection whose isolation this changes gets it back when it is closed, before it returns to
 * the pool: not every pool resets it, and the application's next transaction on that connection
 * must run at the isolation it expects. Connections already at read committed are handed out as
 * they are: that is decided on the first connection, so in the usual case a connection costs
 * nothing extra, and otherwise two statements (the change and the restore).
 */
final class StoreConnections {

  private static final int UNKNOWN = -1;

  private final DataSource dataSource;
  private volatile int defaultIsolation = UNKNOWN;

  StoreConnections(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A connection for statements that each commit on their own. */
  Connection autocommit() throws SQLException {
    Connection connection = dataSource.getConnection();
    try {
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      return readCommitted(connection);
    } catch (SQLException | RuntimeException ex) {
      PostgresOutboxRepository.closeQuietly(connection);
      throw ex;
    }
  }

  /** A connection for a transaction of the library's own; the caller commits or rolls back. */
  Connection transaction() throws SQLException {
    Connection connection = autocommit();
    try {
      connection.setAutoCommit(false);
      return connection;
    } catch (SQLException | RuntimeException ex) {
      PostgresOutboxRepository.closeQuietly(connection);
      throw ex;
    }
  }

  private Connection readCommitted(Connection connection) throws SQLException {
    int isolation = defaultIsolation;
    if (isolation == UNKNOWN) {
      isolation = connection.getTransactionIsolation();
      defaultIsolation = isolation;
    }
    if (isolation != Connection.TRANSACTION_REPEATABLE_READ
        && isolation != Connection.TRANSACTION_SERIALIZABLE) {
      return connection; // read committed, or read uncommitted, which PostgreSQL runs as such
    }
    connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    return restoringOnClose(connection, isolation);
  }

  /**
   * {@code connection}, whose {@code close()} first ends any transaction and sets back its
   * isolation.
   */
  private static Connection restoringOnClose(Connection connection, int isolation) {
    return (Connection)
        Proxy.newProxyInstance(
            StoreConnections.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                try {
                  if (!connection.isClosed()) {
                    if (!connection.getAutoCommit()) {
                      connection.rollback();
                    }
                    connection.setTransactionIsolation(isolation);
                  }
                } finally {
                  connection.close();
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
}
