package dev.outbox.store;

import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Counts the WAL fsyncs the server makes while some work runs on one session of its own: {@code
 * pg_stat_wal.wal_sync} (PostgreSQL 14–17) or the WAL rows of {@code pg_stat_io} (18 and later).
 * The work gets that one session through {@link #dataSource()}, whose connections are the session
 * and whose {@code close()} keeps it open, as a pool would. A backend reports its statistics when
 * it ends, before it leaves {@code pg_stat_activity}, so the count is read once the session has
 * ended. The counter is the server's: anything else writing at the time (the WAL writer's own
 * flushes included) adds to it, never takes from it.
 */
final class WalSyncs {

  /**
   * How long the session may take to end once closed. No timeout of the library bounds this: it is
   * the server's process exit, milliseconds on an idle machine; the bound only keeps a broken
   * server from hanging the suite.
   */
  private static final Duration SESSION_ENDS = Duration.ofSeconds(60);

  private static final List<String> COUNTED_SYNC_METHODS =
      List.of("fdatasync", "fsync", "fsync_writethrough");

  private final String applicationName = "wal-syncs-" + UUID.randomUUID();
  private final Connection session;

  WalSyncs() throws SQLException {
    TestPostgres postgres = TestPostgres.get();
    Properties properties = new Properties();
    properties.setProperty("user", postgres.user());
    properties.setProperty("password", postgres.password());
    properties.setProperty("ApplicationName", applicationName);
    session = DriverManager.getConnection(postgres.url(), properties);
    String fsync = setting("fsync");
    String method = setting("wal_sync_method");
    if (!"on".equals(fsync) || !COUNTED_SYNC_METHODS.contains(method)) {
      session.close();
      throw new IllegalStateException(
          "This test counts WAL fsyncs, which PostgreSQL at "
              + postgres.url()
              + " does not count (fsync="
              + fsync
              + ", wal_sync_method="
              + method
              + "): run it against a server with fsync on and wal_sync_method fdatasync or fsync");
    }
  }

  /** The session, handed out as every connection; closing one keeps the session open. */
  DataSource dataSource() {
    Connection shared =
        (Connection)
            Proxy.newProxyInstance(
                Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("close")) {
                    return null;
                  }
                  try {
                    return method.invoke(session, args);
                  } catch (InvocationTargetException ex) {
                    throw ex.getCause();
                  }
                });
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) {
                return shared;
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }

  /** The value of {@code name} in the session now. */
  String setting(String name) throws SQLException {
    try (PreparedStatement statement = session.prepareStatement("SELECT current_setting(?)")) {
      statement.setString(1, name);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** The fsyncs made while {@code work} ran; ends the session. */
  long during(Work work) throws Exception {
    long before = total();
    try {
      work.run();
    } finally {
      session.close();
    }
    await()
        .atMost(SESSION_ENDS)
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
    try (PreparedStatement delete =
        session.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
      for (UUID id : ids) {
        delete.setObject(1, id);
        delete.executeUpdate();
      }
    }
  }

  /** Updates {@code sql} {@code times} times, each an autocommit statement. */
  void updateEachOnItsOwn(String sql, int times) throws SQLException {
    try (Statement update = session.createStatement()) {
      for (int i = 0; i < times; i++) {
        update.executeUpdate(sql);
      }
    }
  }

  private static long total() {
    // A fresh session each time: no statistics snapshot of an earlier read is reused.
    return TestPostgres.get().queryLong("SHOW server_version_num") >= 180000
        ? TestPostgres.get()
            .queryLong("SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal'")
        : TestPostgres.get().queryLong("SELECT wal_sync FROM pg_stat_wal");
  }

  @FunctionalInterface
  interface Work {
    void run() throws Exception;
  }
}
