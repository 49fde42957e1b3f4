package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.OutboxException;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
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
