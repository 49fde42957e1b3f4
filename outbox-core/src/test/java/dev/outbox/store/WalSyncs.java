package dev.outbox.store;

import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Counts the WAL fsyncs ({@code pg_stat_wal.wal_sync}) the server makes while some work runs on
 * sessions of one application name. A backend reports its statistics when it ends, before it leaves
 * {@code pg_stat_activity}, so the count is read once no session of that name is left. The counter
 * is the server's: anything else writing at the time adds to it, never takes from it.
 */
final class WalSyncs {

  /**
   * How long the sessions may take to end once closed. No timeout of the library bounds this: it is
   * the server's process exit, milliseconds on an idle machine; the bound only keeps a broken
   * server from hanging the suite.
   */
  private static final Duration SESSIONS_END = Duration.ofSeconds(60);

  private final String applicationName = "wal-syncs-" + UUID.randomUUID();

  /** Unpooled connections under this counter's application name. */
  DataSource dataSource() {
    PGSimpleDataSource dataSource = (PGSimpleDataSource) TestPostgres.get().dataSource();
    dataSource.setApplicationName(applicationName);
    return dataSource;
  }

  /** The fsyncs made while {@code work} ran and its sessions (all closed by it) ended. */
  long during(Work work) throws Exception {
    long before = total();
    work.run();
    await()
        .atMost(SESSIONS_END)
        .until(
            () ->
                TestPostgres.get()
                        .queryLong(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                                + applicationName
                                + "'")
                    == 0);
    return total() - before;
  }

  /** Deletes {@code ids} one autocommit statement at a time, as an application would. */
  void deleteEachOnItsOwn(TableName table, Collection<UUID> ids) throws SQLException {
    try (Connection connection = dataSource().getConnection();
        PreparedStatement delete =
            connection.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
      for (UUID id : ids) {
        delete.setObject(1, id);
        delete.executeUpdate();
      }
    }
  }

  private static long total() {
    // A fresh session each time: no statistics snapshot of an earlier read is reused.
    return TestPostgres.get().queryLong("SELECT wal_sync FROM pg_stat_wal");
  }

  @FunctionalInterface
  interface Work {
    void run() throws Exception;
  }
}
