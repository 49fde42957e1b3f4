package dev.outbox.test;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL server the integration tests run against, chosen once per JVM:
 *
 * <ol>
 *   <li>{@code OUTBOX_TEST_POSTGRES_URL} (with {@code _USER}/{@code _PASSWORD}) if set — what CI
 *       does, with {@code OUTBOX_TEST_SERVICES=local};
 *   <li>otherwise a Testcontainers PostgreSQL if a Docker engine is reachable and {@code
 *       OUTBOX_TEST_SERVICES} is not {@code local};
 *   <li>otherwise the local server at {@code 127.0.0.1:5432}, database {@code outbox_test} (created
 *       if missing).
 * </ol>
 *
 * A server that does not answer fails the test; it is never skipped.
 */
public final class TestPostgres {

  private static volatile TestPostgres instance;

  private final String url;
  private final String user;
  private final String password;

  private TestPostgres(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  public static TestPostgres get() {
    TestPostgres local = instance;
    if (local == null) {
      synchronized (TestPostgres.class) {
        local = instance;
        if (local == null) {
          local = choose();
          instance = local;
        }
      }
    }
    return local;
  }

  private static TestPostgres choose() {
    String url = System.getenv("OUTBOX_TEST_POSTGRES_URL");
    String user = env("OUTBOX_TEST_POSTGRES_USER", "postgres");
    String password = env("OUTBOX_TEST_POSTGRES_PASSWORD", "");
    if (url != null && !url.isBlank()) {
      return check(new TestPostgres(url, user, password));
    }
    if (!"local".equals(System.getenv("OUTBOX_TEST_SERVICES")) && dockerAvailable()) {
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:15-alpine");
      // The server's own defaults, fsync on (the container would turn it off): some tests count
      // the WAL fsyncs of the relay's statements against an application's.
      container.setCommand("postgres");
      container.start();
      return check(
          new TestPostgres(
              container.getJdbcUrl(), container.getUsername(), container.getPassword()));
    }
    createDatabaseIfMissing("outbox_test", user, password);
    return check(new TestPostgres("jdbc:postgresql://127.0.0.1:5432/outbox_test", user, password));
  }

  private static boolean dockerAvailable() {
    return System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
  }

  private static void createDatabaseIfMissing(String name, String user, String password) {
    try (Connection connection =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/postgres", user, password);
        Statement statement = connection.createStatement()) {
      try (ResultSet rs =
          statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
        if (rs.next()) {
          return;
        }
      }
      statement.execute("CREATE DATABASE " + name);
    } catch (SQLException ex) {
      if (!"42P04".equals(ex.getSQLState())) {
        throw new IllegalStateException(
            "PostgreSQL at 127.0.0.1:5432 does not answer; start it (see .ci/run) or set"
                + " OUTBOX_TEST_POSTGRES_URL: "
                + ex.getMessage(),
            ex);
      }
    }
  }

  private static TestPostgres check(TestPostgres postgres) {
    try (Connection ignored = postgres.connect()) {
      return postgres;
    } catch (SQLException ex) {
      throw new IllegalStateException(
          "PostgreSQL at " + postgres.url + " does not answer: " + ex.getMessage(), ex);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  public String url() {
    return url;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  /** A simple (unpooled) data source. */
  public DataSource dataSource() {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setUrl(url);
    dataSource.setUser(user);
    dataSource.setPassword(password);
    return dataSource;
  }

  /** A {@link TcpProxy} to this PostgreSQL server; close it after use. */
  public TcpProxy proxy() throws IOException {
    PGSimpleDataSource target = (PGSimpleDataSource) dataSource();
    return new TcpProxy(target.getServerNames()[0], target.getPortNumbers()[0]);
  }

  /**
   * A simple data source whose connections go through {@code proxy}. Opening a connection waits at
   * most {@code loginTimeout} for the server (pgjdbc's {@code loginTimeout}, in whole seconds
   * rounded down, at least one): through a frozen proxy it would otherwise wait for ever. Putting
   * HikariCP in front would not bound it: its connection timeout bounds a caller's wait for a
   * pooled connection, but it opens its first connection on the caller's thread and hands the
   * timeout to the driver as {@code DriverManager}'s login timeout, which pgjdbc ignores.
   */
  public DataSource dataSourceThrough(TcpProxy proxy, Duration loginTimeout) {
    PGSimpleDataSource dataSource = (PGSimpleDataSource) dataSource();
    dataSource.setServerNames(new String[] {"127.0.0.1"});
    dataSource.setPortNumbers(new int[] {proxy.port()});
    dataSource.setLoginTimeout((int) Math.max(1, loginTimeout.toSeconds()));
    return dataSource;
  }

  /** Creates a fresh schema with a unique name, so tests never see each other's tables. */
  public String createSchema(String prefix) {
    String schema =
        (prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12))
            .toLowerCase(Locale.ROOT);
    execute("CREATE SCHEMA " + schema);
    return schema;
  }

  /**
   * Drops {@code schema} and what it holds. A test class's {@code @AfterAll} runs before Spring
   * closes its context, so a relay may still be reading a table of the schema: when PostgreSQL
   * breaks the resulting deadlock by aborting the drop, the drop is tried again (a few times; the
   * relay's statement is the one aborted then, or has ended).
   */
  public void dropSchema(String schema) {
    for (int attempt = 1; ; attempt++) {
      try {
        execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        return;
      } catch (IllegalStateException ex) {
        boolean deadlock =
            ex.getCause() instanceof SQLException failure
                && DEADLOCK_DETECTED.equals(failure.getSQLState());
        if (!deadlock || attempt == DROP_ATTEMPTS) {
          throw ex;
        }
      }
    }
  }

  /** PostgreSQL's SQLSTATE for a transaction it aborted to break a deadlock. */
  private static final String DEADLOCK_DETECTED = "40P01";

  private static final int DROP_ATTEMPTS = 5;

  /** Runs {@code sql} on {@code connection}, which stays open. */
  public void execute(Connection connection, String sql) {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not run: " + sql + ": " + ex.getMessage(), ex);
    }
  }

  public void execute(String sql) {
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not run: " + sql + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * How many sessions wait for a lock (a row lock, a table lock or an advisory lock, not a
   * lightweight lock) while running a statement that starts with {@code statementStart}: a test
   * awaits this to know that a step it started is blocked where it means it to be.
   */
  public long sessionsWaitingForALock(String statementStart) {
    String sql =
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            + " AND left(query, length(?)) = ?";
    try (Connection connection = connect();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, statementStart);
      statement.setString(2, statementStart);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not run: " + sql + ": " + ex.getMessage(), ex);
    }
  }

  /**
   * Waits until {@code step}, started in the background, waits for the transaction-level advisory
   * lock {@code (classKey, hashtext(name))}, at most {@code atMost}. Fails at once if the step ends
   * instead: it did not wait.
   */
  public void awaitWaitingForAdvisoryLock(
      Future<?> step, int classKey, String name, Duration atMost) {
    String sql =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            + " AND classid = "
            + classKey
            + "::int4::oid AND objid = hashtext('"
            + name.replace("'", "''")
            + "')::oid AND objsubid = 2";
    await("a session waiting for the advisory lock (" + classKey + ", " + name + "), or the step")
        .atMost(atMost)
        .until(() -> step.isDone() || queryLong(sql) > 0);
    if (step.isDone()) {
      throw new AssertionError("The step ended instead of waiting for the lock of " + name);
    }
  }

  /** How many sessions with the backend process id {@code pid} wait for a lock (0 or 1). */
  public long sessionsWaitingForALock(long pid) {
    return queryLong(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = "
            + pid
            + " AND wait_event_type = 'Lock'");
  }

  /**
   * Runs {@code sql} (a statement that takes a lock, say) in a transaction that stays open, holding
   * what it took, until the returned connection is closed: another instance in the middle of its
   * work, as the server sees it.
   */
  public Connection openTransactionThatRan(String sql) {
    try {
      Connection connection = connect();
      try {
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement()) {
          statement.execute(sql);
        }
        return connection;
      } catch (SQLException ex) {
        connection.close();
        throw ex;
      }
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not run: " + sql + ": " + ex.getMessage(), ex);
    }
  }

  /** Runs a single-value query and returns the value as a long. */
  public long queryLong(String sql) {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not run: " + sql + ": " + ex.getMessage(), ex);
    }
  }
}
