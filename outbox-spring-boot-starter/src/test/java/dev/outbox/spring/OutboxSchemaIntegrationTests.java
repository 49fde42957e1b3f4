package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.OutboxException;
import dev.outbox.store.TableName;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Schema creation, verification and bad table names at startup, on real PostgreSQL. */
class OutboxSchemaIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("schema");

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withBean(DataSource.class, () -> TestPostgres.get().dataSource())
          .withPropertyValues("outbox.table.schema=" + schema);

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  private boolean exists(String table) {
    return TestPostgres.get()
            .queryLong(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '"
                    + schema
                    + "' AND tablename = '"
                    + table
                    + "'")
        == 1;
  }

  @Test
  void migrationCreatesTheTableAndItsOwnHistoryTable() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(exists("outbox_event")).isTrue();
          assertThat(exists("outbox_event_schema_history")).isTrue();
          assertThat(exists("flyway_schema_history")).isFalse();
        });
  }

  @Test
  void migrationRunsOnceAcrossRestarts() {
    runner.run(context -> assertThat(context).hasNotFailed());
    runner.run(context -> assertThat(context).hasNotFailed());
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + schema
                        + ".outbox_event_schema_history WHERE success"
                        + " AND version = '1'"))
        .isEqualTo(1);
  }

  /**
   * Instances of a service deployed together start at once against a database that has no outbox
   * yet: each runs the migrations, one after the other (the migration lock), so one creates the
   * history table and the outbox table and the others find nothing left to do. Every instance
   * starts, and every migration ran once. Also when the configured schema does not exist yet, so
   * that the instances race to create it too. Without the lock, an instance that looked at the
   * schema just after another had created the history table tried to baseline it and failed to
   * start ("Unable to baseline schema history table … as it already exists, and is empty"): seen in
   * a fresh-clone run of the suite; a race, so several rounds of several instances.
   */
  @ParameterizedTest(name = "schema exists: {0}")
  @ValueSource(booleans = {true, false})
  void instancesStartingAtOnceOnAnEmptyDatabaseAllStartAndEachMigrationRunsOnce(
      boolean schemaExists) throws Exception {
    for (int round = 0; round < 3; round++) {
      String target =
          schemaExists ? TestPostgres.get().createSchema("together") : schema + "_new" + round;
      try {
        startTogether(6, target);
      } finally {
        TestPostgres.get().dropSchema(target);
      }
    }
  }

  /** Starts {@code instances} contexts at once on {@code target}; checks what they migrated. */
  private void startTogether(int instances, String target) throws Exception {
    List<Throwable> failures =
        TestThreads.allAtOnce(
            instances,
            instance -> {
              AtomicReference<Throwable> failure = new AtomicReference<>();
              runner
                  .withPropertyValues("outbox.table.schema=" + target)
                  .run(context -> failure.set(context.getStartupFailure()));
              return failure.get();
            },
            Duration.ofMinutes(2));
    assertThat(failures).as("startup failures of the instances").containsOnlyNulls();
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + target
                        + ".outbox_event_schema_history WHERE version IS NOT NULL"
                        + " GROUP BY version ORDER BY count(*) DESC LIMIT 1"))
        .as("runs of the most often run migration")
        .isEqualTo(1);
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM "
                        + target
                        + ".outbox_event_schema_history WHERE NOT success"))
        .isZero();
    assertThat(
            TestPostgres.get()
                .queryLong(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = '"
                        + target
                        + "' AND tablename = 'outbox_event'"))
        .isEqualTo(1);
  }

  /**
   * An instance that finds another's migration of the same table under way waits for it, says so
   * once, and starts when the other's run ends. The test plays the other instance by holding the
   * migration lock with its keys written out (the class {@code "dev.outbox:migrations".hashCode()}
   * and the table's bare name, hashed), which every instance must take alike: if they change, this
   * test fails.
   */
  @Test
  void anInstanceWaitsUntilAnotherInstancesMigrationOfTheTableEndsAndSaysSo() throws Exception {
    String name = schema + ".outbox_event";
    CompletableFuture<Throwable> start;
    try (LogCapture log = LogCapture.of(TableMigrations.class);
        Connection otherInstance =
            TestPostgres.get().openTransactionThatRan(migrationLockOf("outbox_event"))) {
      start =
          CompletableFuture.supplyAsync(
              () -> {
                AtomicReference<Throwable> failure = new AtomicReference<>();
                runner.run(context -> failure.set(context.getStartupFailure()));
                return failure.get();
              },
              TestThreads.OWN_THREAD);
      TestPostgres.get()
          .awaitWaitingForAdvisoryLock(
              start, "dev.outbox:migrations".hashCode(), "outbox_event", Duration.ofMinutes(1));

      assertThat(exists("outbox_event")).as("migrated while the other's run lasts").isFalse();
      assertThat(log.lines("Waiting"))
          .containsExactly("INFO Waiting for another instance's migration of " + name);
    }
    assertThat(start.get(1, TimeUnit.MINUTES)).as("startup failure").isNull();
    assertThat(exists("outbox_event")).isTrue();
  }

  /**
   * The statement that takes the migration lock of the table {@code table}, as an instance does.
   */
  static String migrationLockOf(String table) {
    return "SELECT pg_advisory_xact_lock("
        + "dev.outbox:migrations".hashCode()
        + ", hashtext('"
        + table
        + "'))";
  }

  @Test
  void customTableNameIsCreatedAndUsed() {
    runner
        .withPropertyValues("outbox.table.name=order_outbox")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(TableName.class).qualified())
                  .isEqualTo(schema + ".order_outbox");
              assertThat(exists("order_outbox")).isTrue();
            });
  }

  /**
   * A pool of two connections cannot run a migration, which needs three at once. The database
   * answers, so startup fails saying what to change, instead of taking the pool's timeouts for a
   * database that is down and starting without the table.
   */
  @Test
  void aPoolTooSmallForTheMigrationFailsStartupSayingSo() {
    HikariDataSource pool = new HikariDataSource();
    pool.setJdbcUrl(TestPostgres.get().url());
    pool.setUsername(TestPostgres.get().user());
    pool.setPassword(TestPostgres.get().password());
    pool.setMaximumPoolSize(2);
    pool.setConnectionTimeout(250);
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withBean(DataSource.class, () -> pool)
        .withPropertyValues("outbox.table.schema=" + schema)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining("Could not migrate " + schema + ".outbox_event")
                  .hasStackTraceContaining("A migration needs three connections at once")
                  .hasStackTraceContaining("spring.datasource.hikari.maximum-pool-size");
            });
    assertThat(pool.isClosed()).as("closed with the context").isTrue();
  }

  @Test
  void missingTableWithMigrationsDisabledFailsStartupSayingWhatToDo() {
    runner
        .withPropertyValues("outbox.migration.enabled=false")
        .run(
            context -> {
              assertThat(context).hasFailed();
              Throwable root = rootCause(context.getStartupFailure());
              assertThat(root)
                  .isInstanceOf(OutboxException.class)
                  .hasMessageContaining("outbox table '" + schema + ".outbox_event' does not exist")
                  .hasMessageContaining("outbox.migration.enabled=true")
                  .hasMessageContaining("docs/schema.md");
            });
  }

  @Test
  void existingTableWithMigrationsDisabledStarts() {
    dev.outbox.store.OutboxSchema.create(
        TestPostgres.get().dataSource(), TableName.of(schema, "outbox_event"));
    runner
        .withPropertyValues("outbox.migration.enabled=false")
        .run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void invalidTableNameIsRejectedAtStartupAndNeverReachesSql() {
    runner
        .withPropertyValues("outbox.table.name=outbox; DROP TABLE orders")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(rootCause(context.getStartupFailure()))
                  .isInstanceOf(OutboxException.class)
                  .hasMessageContaining("Invalid outbox table name 'outbox; DROP TABLE orders'")
                  .hasMessageContaining("outbox.table.name");
            });
  }

  @Test
  void invalidSchemaNameIsRejectedAtStartup() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withBean(DataSource.class, () -> TestPostgres.get().dataSource())
        .withPropertyValues("outbox.table.schema=Public\"")
        .run(
            context ->
                assertThat(rootCause(context.getStartupFailure()))
                    .hasMessageContaining("Invalid outbox schema name")
                    .hasMessageContaining("outbox.table.schema"));
  }

  private static Throwable rootCause(Throwable failure) {
    Throwable t = failure;
    while (t.getCause() != null && t.getCause() != t) {
      if (t instanceof OutboxException) {
        return t;
      }
      t = t.getCause();
    }
    return t;
  }
}
