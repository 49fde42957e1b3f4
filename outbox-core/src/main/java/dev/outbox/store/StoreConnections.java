package dev.outbox.store;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The connections of the library's own statements (the relay's reads and completions, statistics,
 * dead-event operations), never the application's: each runs at read committed, whatever the
 * default isolation of the database, the role or the pool.
 *
 * <p>Under a default of repeatable read or serializable, the deletion of a published batch failed
 * with "could not serialize access due to read/write dependencies" while writers committed, and its
 * events were published again. At read committed a statement of the relay sees every row committed
 * before it starts, which is all its fencing and ordering rely on (the leases and the writers' key
 * locks, not the isolation level, keep two instances and two writers apart).
 *
 * <p>The first connection tells whether the default needs changing; from then on a connection costs
 * nothing extra when it does not, and two statements when it does (the change, and the pool's reset
 * when the connection goes back).
 */
final class StoreConnections {

  private final DataSource dataSource;
  private volatile @Nullable Boolean readCommittedByDefault;

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
      readCommitted(connection);
      return connection;
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

  private void readCommitted(Connection connection) throws SQLException {
    Boolean byDefault = readCommittedByDefault;
    if (byDefault == null) {
      byDefault = connection.getTransactionIsolation() == Connection.TRANSACTION_READ_COMMITTED;
      readCommittedByDefault = byDefault;
    }
    if (!byDefault) {
      connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    }
  }
}
