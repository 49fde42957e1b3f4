package dev.outbox.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * What PostgreSQL saw during a case, sampled from the suite on a connection of its own:
 *
 * <ul>
 *   <li>the temp-file bytes written (delta of {@code pg_stat_database.temp_bytes} for the benchmark
 *       database: every backend of that database counts, whoever it belongs to; read after the
 *       case's JVMs have ended, since a backend reports its counters when it ends);
 *   <li>the longest open relay transaction: every ~20 ms, the largest {@code clock_timestamp() -
 *       xact_start} over the application's backends ({@code application_name} {@value
 *       OutboxApp#APPLICATION_NAME}) whose current or last statement touches the outbox table and
 *       is not an INSERT. The relay and the business transactions share the application's pool, as
 *       in a real application, so the name alone does not separate them; the statement does (the
 *       business transactions touch the outbox table only with the writer's INSERT).
 *   <li>what those transactions waited for once they were older than {@value #SLOW_MS} ms: the
 *       {@code wait_event} of each such sample ({@code none} = not waiting, on a CPU or queued for
 *       one), counted per event;
 *   <li>the checkpoints PostgreSQL started during the case (delta of {@code pg_stat_bgwriter}),
 *       those requested because of WAL volume apart: their writes compete with the relay's commits;
 *   <li>the WAL written during the case and the full-page images in it (delta of {@code
 *       pg_stat_wal}, the whole server's, read like the temp bytes): the first change of a page
 *       after a checkpoint logs the whole 8 KB page.
 * </ul>
 */
final class PgSampler implements AutoCloseable {

  private static final String LONGEST =
      "SELECT extract(epoch FROM clock_timestamp() - xact_start) * 1000, left(query, 120),"
          + " coalesce(wait_event_type || ':' || wait_event, 'none')"
          + " FROM pg_stat_activity WHERE datname = current_database()"
          // The pool's sessions, and each relay's lease anchor, named after its member
          // ("outbox-relay-<host>-<uuid>") while the relay holds it
          + " AND (application_name = ? OR application_name LIKE 'outbox-relay-%')"
          + " AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
          // An idle LISTEN session delivering a notification runs a short internal transaction
          // whose reported start is its last statement's start (the LISTEN, long ago): not a
          // transaction of the relay's.
          + " AND state <> 'idle'"
          + " AND query ILIKE '%"
          + Db.OUTBOX
          + "%' AND ltrim(query) NOT ILIKE 'insert%'"
          + " ORDER BY xact_start LIMIT 1";

  /** The longest-relay-transaction target of issue 8: samples older than this count their wait. */
  static final int SLOW_MS = 100;

  private final DataSource admin;
  private final long tempBytesBefore;
  private final long[] checkpointsBefore;
  private final long[] walBefore;
  private final Map<String, Integer> slowWaits = new ConcurrentHashMap<>();
  private final String loadAverage;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile double longestMs;
  private volatile String longestQuery = "";
  private volatile long samples;
  private volatile String error;

  PgSampler(DataSource admin, String jdbcUrl, String user) {
    this.admin = admin;
    this.tempBytesBefore = tempBytes(admin);
    this.checkpointsBefore = checkpoints(admin);
    this.walBefore = wal(admin);
    this.loadAverage = loadAverage();
    thread = new Thread(() -> sample(jdbcUrl, user), "pg-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (Exception ex) {
      return "?";
    }
  }

  static long tempBytes(DataSource admin) {
    Db.execute(admin, "SELECT pg_stat_clear_snapshot()");
    return Db.queryLong(
        admin, "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()");
  }

  private static long[] checkpoints(DataSource admin) {
    return new long[] {
      Db.queryLong(admin, "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"),
      Db.queryLong(admin, "SELECT checkpoints_req FROM pg_stat_bgwriter")
    };
  }

  private static long[] wal(DataSource admin) {
    return new long[] {
      Db.queryLong(admin, "SELECT wal_bytes::bigint FROM pg_stat_wal"),
      Db.queryLong(admin, "SELECT wal_fpi FROM pg_stat_wal")
    };
  }

  private void sample(String jdbcUrl, String user) {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("ApplicationName", "bench-suite-sampler");
    try (Connection connection = DriverManager.getConnection(jdbcUrl, props);
        PreparedStatement statement = connection.prepareStatement(LONGEST)) {
      statement.setString(1, OutboxApp.APPLICATION_NAME);
      while (running) {
        try (ResultSet rs = statement.executeQuery()) {
          if (rs.next()) {
            double ms = rs.getDouble(1);
            if (ms > SLOW_MS) {
              slowWaits.merge(rs.getString(3), 1, Integer::sum);
            }
            if (ms > longestMs) {
              longestMs = ms;
              longestQuery = rs.getString(2);
            }
          }
        }
        samples++;
        Thread.sleep(20);
      }
    } catch (SQLException ex) {
      error = ex.getMessage();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops sampling the transactions (the window ended); the temp bytes are read by {@link #result}.
   */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(2000);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /** Call once the case's JVMs have ended. */
  Map<String, Object> result() {
    close();
    Suite.sleep(700);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("loadAverageAtStart", loadAverage);
    out.put("tempBytes", tempBytes(admin) - tempBytesBefore);
    out.put("longestRelayTxMs", Math.round(longestMs * 10) / 10.0);
    out.put("longestRelayTxQuery", longestQuery);
    out.put("activitySamples", samples);
    out.put("slowSampleWaits", new TreeMap<>(slowWaits));
    long[] checkpointsAfter = checkpoints(admin);
    out.put("checkpoints", checkpointsAfter[0] - checkpointsBefore[0]);
    out.put("checkpointsRequested", checkpointsAfter[1] - checkpointsBefore[1]);
    long[] walAfter = wal(admin);
    out.put("walBytes", walAfter[0] - walBefore[0]);
    out.put("walFullPageImages", walAfter[1] - walBefore[1]);
    if (error != null) {
      out.put("samplerError", error);
    }
    return out;
  }
}
