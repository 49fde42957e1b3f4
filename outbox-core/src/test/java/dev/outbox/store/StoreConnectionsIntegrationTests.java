package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The library's own connections run at read committed, the relay's are bounded by its database
 * timeout, and each goes back to its pool as it was found: a pool that does not reset the isolation
 * must not hand the application a connection at another isolation than the one it runs at. Against
 * real PostgreSQL sessions, through a "pool" of one session that resets nothing.
 */
class StoreConnectionsIntegrationTests {

  private Connection session;

  @AfterEach
  void closeSession() throws SQLException {
    if (session != null) {
      session.close();
    }
  }

  @ParameterizedTest(name = "default {0}")
  @ValueSource(strings = {"serializable", "repeatable read"})
  void underAStricterDefaultTheLibraryRunsAtReadCommittedAndGivesTheSessionBackAsItWas(
      String isolation) throws Exception {
    PGSimpleDataSource stricter = (PGSimpleDataSource) TestPostgres.get().dataSource();
    stricter.setOptions("-c default_transaction_isolation=" + isolation.replace(" ", "\\ "));
    session = stricter.getConnection();
    assertThat(isolation(session)).isEqualTo(isolation);
    StoreConnections connections = new StoreConnections(poolOfOne(session));

    for (int use = 0; use < 2; use++) {
      try (Connection connection = connections.autocommit()) {
        assertThat(isolation(connection)).isEqualTo("read committed");
      }
      assertThat(isolation(session)).as("after use %s", use).isEqualTo(isolation);
      assertThat(session.getAutoCommit()).isTrue();
    }
    try (Connection connection = connections.transaction()) {
      assertThat(connection.getAutoCommit()).isFalse();
      assertThat(isolation(connection)).isEqualTo("read committed");
      // closed with its transaction open: ended, and the isolation and auto-commit set back
    }
    assertThat(session.getAutoCommit()).isTrue();
    assertThat(isolation(session)).isEqualTo(isolation);
  }

  /** A pool whose connections come with auto-commit off, as some applications configure it. */
  @Test
  void aConnectionWithAutoCommitOffGoesBackWithAutoCommitOff() throws Exception {
    session = TestPostgres.get().connect();
    session.setAutoCommit(false);
    StoreConnections connections = new StoreConnections(poolOfOne(session));

    try (Connection connection = connections.autocommit()) {
      assertThat(connection.getAutoCommit()).isTrue();
    }
    assertThat(session.getAutoCommit()).isFalse();
    try (Connection connection = connections.transaction()) {
      assertThat(connection.getAutoCommit()).isFalse();
    }
    assertThat(session.getAutoCommit()).isFalse();
  }

  /**
   * A connection whose settings cannot be set back (its session ended under it) is aborted, so that
   * a pool drops it, and closing it does not fail the work already done on it.
   */
  @Test
  void aConnectionThatCannotBeRestoredIsAbortedWithoutFailingTheClose() throws Exception {
    PGSimpleDataSource stricter = (PGSimpleDataSource) TestPostgres.get().dataSource();
    stricter.setOptions("-c default_transaction_isolation=serializable");
    session = stricter.getConnection();
    StoreConnections connections = new StoreConnections(poolOfOne(session));
    int pid;
    try (Connection connection = connections.autocommit()) {
      pid = pid(connection);
      TestPostgres.get().execute("SELECT pg_terminate_backend(" + pid + ")");
    }
    assertThat(session.isClosed()).as("aborted").isTrue();
  }

  /**
   * A connection whose settings fail partway (here its name, after its isolation was set to read
   * committed) is aborted, not given back to the pool with the settings made so far.
   */
  @Test
  void aConnectionWhoseSettingsFailPartwayIsAbortedNotGivenBackChanged() throws Exception {
    PGSimpleDataSource stricter = (PGSimpleDataSource) TestPostgres.get().dataSource();
    stricter.setOptions("-c default_transaction_isolation=serializable");
    session = stricter.getConnection();
    StoreConnections connections = new StoreConnections(poolOfOne(session, "setClientInfo"));

    assertThatThrownBy(() -> connections.autocommit("orders-relay"))
        .isInstanceOf(SQLException.class)
        .hasMessage("setClientInfo refused by the test");
    assertThat(session.isClosed()).as("aborted").isTrue();
  }

  /**
   * A named connection left with a transaction open, from a pool that hands connections out with
   * auto-commit off: its name is set back outside any transaction (pgjdbc sends the SET without a
   * BEGIN), so the pool's next rollback cannot undo it.
   */
  @Test
  void aNamedConnectionGetsItsNameBackOutsideAnyTransactionAlsoFromAPoolWithoutAutoCommit()
      throws Exception {
    PGSimpleDataSource named = (PGSimpleDataSource) TestPostgres.get().dataSource();
    named.setApplicationName("orders-app");
    session = named.getConnection();
    session.setAutoCommit(false);
    StoreConnections connections = new StoreConnections(poolOfOne(session));

    try (Connection connection = connections.autocommit("orders-relay")) {
      assertThat(applicationName(connection)).isEqualTo("orders-relay");
      connection.setAutoCommit(false); // as a rebalance does, and fails before it ends
      execute(connection, "SELECT 1");
    }
    assertThat(session.getAutoCommit()).isFalse();
    session.rollback(); // what a pool does with a connection given back
    assertThat(applicationName(session)).isEqualTo("orders-app");
  }

  private static String applicationName(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT current_setting('application_name')")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static int pid(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void atTheUsualDefaultTheConnectionIsHandedOutAsItIs() throws Exception {
    session = TestPostgres.get().connect();
    DataSource pool = poolOfOne(session);
    StoreConnections connections = new StoreConnections(pool);

    try (Connection connection = connections.autocommit()) {
      assertThat(isolation(connection)).isEqualTo("read committed");
      assertThat(connection).as("the pool's connection, unwrapped").isSameAs(pool.getConnection());
    }
  }

  /**
   * A bounded connection gives up on a statement held up by a lock after the database timeout, and
   * the server ends the session it was still waiting in (before, that session waited on until the
   * lock was released, and every retry left one more). The connection goes back to the pool with
   * the network timeout it came with, and a shorter one the application set stays.
   */
  @Test
  void aStatementGivenUpOnAfterTheTimeoutEndsInTheServerTooAndTheTimeoutIsSetBack()
      throws Exception {
    String table = "held_" + System.nanoTime();
    TestPostgres.get().execute("CREATE TABLE " + table + " (id int)");
    try (Connection locker = TestPostgres.get().openTransactionThatRan("LOCK TABLE " + table)) {
      session = TestPostgres.get().connect();
      session.setNetworkTimeout(Runnable::run, 60_000);
      StoreConnections connections = new StoreConnections(poolOfOne(session));
      connections.bound(Duration.ofSeconds(1));
      int pid;
      try (Connection connection = connections.autocommit()) {
        assertThat(connection.getNetworkTimeout()).isEqualTo(1_000);
        pid = pid(connection);
        assertThatThrownBy(() -> execute(connection, "SELECT count(*) FROM " + table))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("An I/O error occurred");
      }
      assertThat(session.isClosed()).as("given up, closed").isTrue();
      await("the server ends the session, the lock still held")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  TestPostgres.get()
                          .queryLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)
                      == 0);
      assertThat(locker.isClosed()).isFalse();
    } finally {
      TestPostgres.get().execute("DROP TABLE " + table);
    }

    session = TestPostgres.get().connect();
    session.setNetworkTimeout(Runnable::run, 60_000);
    StoreConnections connections = new StoreConnections(poolOfOne(session));
    connections.bound(Duration.ofSeconds(10));
    try (Connection connection = connections.autocommit()) {
      assertThat(connection.getNetworkTimeout()).isEqualTo(10_000);
      execute(connection, "SELECT 1");
    }
    assertThat(session.getNetworkTimeout()).as("set back").isEqualTo(60_000);
    session.setNetworkTimeout(Runnable::run, 1_500);
    try (Connection connection = connections.autocommit()) {
      assertThat(connection.getNetworkTimeout()).as("a shorter one stays").isEqualTo(1_500);
    }
    assertThat(session.getNetworkTimeout()).isEqualTo(1_500);
    connections.bound(Duration.ZERO);
    session.setNetworkTimeout(Runnable::run, 60_000);
    try (Connection connection = connections.autocommit()) {
      assertThat(connection.getNetworkTimeout()).as("the pool's, unchanged").isEqualTo(60_000);
    }
  }

  /**
   * A bounded connection whose server stops answering (a proxy that freezes it) fails after the
   * database timeout, and the driver closes it, so the pool drops it.
   */
  @Test
  void aBoundedConnectionWhoseServerStopsAnsweringFailsAndIsClosed() throws Exception {
    try (TcpProxy proxy = TestPostgres.get().proxy()) {
      session = TestPostgres.get().dataSourceThrough(proxy, Duration.ofSeconds(5)).getConnection();
      StoreConnections connections = new StoreConnections(poolOfOne(session));
      connections.bound(Duration.ofSeconds(1));

      try (Connection connection = connections.autocommit()) {
        proxy.freeze();
        assertThatThrownBy(() -> execute(connection, "SELECT 1"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("An I/O error occurred");
      }
      assertThat(session.isClosed()).isTrue();
    }
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static String isolation(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SHOW transaction_isolation")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Hands out {@code session} every time; closing what it handed out keeps the session open. */
  private static DataSource poolOfOne(Connection session) {
    return poolOfOne(session, "");
  }

  /**
   * {@link #poolOfOne(Connection)}, whose connection refuses every call of method {@code refused}.
   */
  private static DataSource poolOfOne(Connection session, String refused) {
    Connection borrowed =
        (Connection)
            Proxy.newProxyInstance(
                StoreConnectionsIntegrationTests.class.getClassLoader(),
                new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                  if (method.getName().equals(refused)) {
                    throw new SQLClientInfoException(refused + " refused by the test", Map.of());
                  }
                  return method.getName().equals("close") ? null : method.invoke(session, args);
                });
    return new DataSource() {
      @Override
      public Connection getConnection() {
        return borrowed;
      }

      @Override
      public Connection getConnection(String username, String password) {
        return borrowed;
      }

      @Override
      public PrintWriter getLogWriter() {
        return null;
      }

      @Override
      public void setLogWriter(PrintWriter out) {}

      @Override
      public void setLoginTimeout(int seconds) {}

      @Override
      public int getLoginTimeout() {
        return 0;
      }

      @Override
      public Logger getParentLogger() {
        return Logger.getGlobal();
      }

      @Override
      public <T> T unwrap(Class<T> type) {
        throw new UnsupportedOperationException();
      }

      @Override
      public boolean isWrapperFor(Class<?> type) {
        return false;
      }
    };
  }
}
