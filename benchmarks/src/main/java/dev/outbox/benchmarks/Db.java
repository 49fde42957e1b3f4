package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** Connection pools, the schema of each case and the server-side seeding of backlogs. */
final class Db {

  /**
   * The outbox table under the starter's default name ({@code outbox.table.*} untouched); the
   * starter creates it at the first application start ({@code outbox.migration.enabled}).
   */
  static final String OUTBOX = "outbox_event";

  /** The business statement of every transaction (the same for the outbox and Modulith). */
  static final String UPDATE_ACCOUNT =
      "UPDATE account SET balance = balance + 1, updated_at = now() WHERE id = ?";

  /** Rows of the business table the transactions update. */
  static final int ACCOUNTS = 10_000;

  private Db() {}

  static HikariDataSource pool(Settings settings, String name, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(settings.jdbcUrl());
    config.setUsername(settings.dbUser());
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setAutoCommit(true);
    return new HikariDataSource(config);
  }

  /**
   * Drops the outbox table (the first application the suite starts creates it again through the
   * starter's migration) and recreates the business table and the hand-written table.
   */
  static void resetAll(DataSource dataSource) {
    // Every table and sequence of the starter's schema (the outbox table, its migration history
    // and whatever a migration adds under the same prefix), so its migration creates them again.
    execute(
        dataSource,
        "DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname, c.relkind FROM pg_class c"
            + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
            + " AND c.relkind IN ('r', 'S') AND c.relname LIKE '"
            + OUTBOX.replace("_", "\\_")
            + "%' ORDER BY c.relkind DESC LOOP EXECUTE format('DROP %s IF EXISTS %I CASCADE',"
            + " CASE r.relkind WHEN 'r' THEN 'TABLE' ELSE 'SEQUENCE' END, r.relname); END LOOP;"
            + " END $$");
    execute(
        dataSource,
        "DROP TABLE IF EXISTS account",
        "CREATE TABLE account (id bigint PRIMARY KEY, balance bigint NOT NULL, updated_at"
            + " timestamptz NOT NULL)",
        "INSERT INTO account SELECT g, 0, now() FROM generate_series(0, " + (ACCOUNTS - 1) + ") g",
        // The hand-written equivalent: the outbox columns, no library, no key lock.
        "DROP TABLE IF EXISTS hand_event",
        "CREATE TABLE hand_event (id uuid PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY,"
            + " destination text NOT NULL, event_key text, aggregate_type text, event_type text"
            + " NOT NULL, event_version integer NOT NULL DEFAULT 1, payload text NOT NULL, headers"
            + " jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(), status"
            + " text NOT NULL DEFAULT 'PENDING', attempts integer NOT NULL DEFAULT 0,"
            + " available_at timestamptz NOT NULL DEFAULT now(), last_error text,"
            + " last_attempt_at timestamptz)",
        "CREATE INDEX hand_event_pending_idx ON hand_event (seq) WHERE status = 'PENDING'",
        "VACUUM ANALYZE account");
  }

  /** Empties the outbox table between runs (TRUNCATE keeps the table and its settings). */
  static void truncateOutbox(DataSource dataSource) {
    execute(dataSource, "TRUNCATE " + OUTBOX + ", hand_event");
  }

  /**
   * Writes {@code count} pending events of {@code keys} keys to {@code destination}, server-side
   * and in write order, shaped as the starter's writer writes them for {@code
   * outbox.publish(destination, key, payload)}: UUIDv7 id, the key, no aggregate type, type
   * OrderPlaced version 1, the JSON of {@link OrderEvent} (same text, checked at suite start), no
   * headers. Only the columns the writer writes are named, so columns the table fills itself
   * (sequence, status, generated columns) keep their defaults. Then analyzes and checkpoints, so
   * the drain that follows does not pay for the seeding.
   */
  static void seedBacklog(DataSource dataSource, String destination, long count, int keys) {
    long chunk = 100_000;
    String sql =
        "INSERT INTO "
            + OUTBOX
            + " (id, destination, event_key, aggregate_type, event_type, event_version, payload,"
            + " headers, created_at) SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) *"
            + " 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4,"
            + " 15))::uuid, ?, 'order-' || (g % ?), NULL, '"
            + OrderEvent.TOPIC_TYPE
            + "', 1, "
            + OrderEvent.sqlJson("g", "?")
            + ", '{}', now() FROM (SELECT g, md5(random()::text || g::text) AS h FROM"
            + " generate_series(?::bigint, ?::bigint) g ORDER BY g) s";
    try (Connection connection = dataSource.getConnection()) {
      // The sort of a chunk fits in memory: a warm drain seeds while it is measured, and the
      // temp-file figure is the relay's.
      try (var statement = connection.createStatement()) {
        statement.execute("SET work_mem = '256MB'");
      }
      for (long from = 0; from < count; from += chunk) {
        long to = Math.min(count, from + chunk) - 1;
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
          statement.setString(1, destination);
          statement.setInt(2, keys);
          statement.setInt(3, keys);
          statement.setLong(4, from);
          statement.setLong(5, to);
          statement.executeUpdate();
        }
      }
      try (var statement = connection.createStatement()) {
        statement.execute("RESET work_mem"); // the connection goes back to a pool
      }
    } catch (SQLException ex) {
      throw new IllegalStateException("Seeding the backlog failed: " + ex.getMessage(), ex);
    }
    execute(dataSource, "ANALYZE " + OUTBOX, "CHECKPOINT");
  }

  static long pending(DataSource dataSource) {
    return queryLong(dataSource, "SELECT count(*) FROM " + OUTBOX + " WHERE status = 'PENDING'");
  }

  static boolean anyPending(DataSource dataSource) {
    return queryLong(
            dataSource,
            "SELECT count(*) FROM (SELECT 1 FROM "
                + OUTBOX
                + " WHERE status = 'PENDING' LIMIT 1) x")
        > 0;
  }

  static long queryLong(DataSource dataSource, String sql) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException ex) {
      throw new IllegalStateException(sql + ": " + ex.getMessage(), ex);
    }
  }

  static String queryString(DataSource dataSource, String sql) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException ex) {
      throw new IllegalStateException(sql + ": " + ex.getMessage(), ex);
    }
  }

  static void execute(DataSource dataSource, String... statements) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      connection.setAutoCommit(true);
      for (String sql : statements) {
        statement.execute(sql);
      }
    } catch (SQLException ex) {
      throw new IllegalStateException("SQL failed: " + ex.getMessage(), ex);
    }
  }
}
