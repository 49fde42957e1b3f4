package dev.outbox.spring;

import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.TableName;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;

/**
 * Creates or upgrades the outbox table at startup with the library's own Flyway migrations and
 * history table ({@code <table>_schema_history}), or, with migrations off, checks that the table
 * exists. If the database does not answer at startup, the application still starts and the relay
 * retries this step before it publishes.
 */
public final class OutboxSchemaInitializer implements InitializingBean {

  private static final Logger log = LoggerFactory.getLogger(OutboxSchemaInitializer.class);

  private final DataSource dataSource;
  private final TableName table;
  private final OutboxRepository repository;
  private final boolean migrate;
  private volatile boolean initialized;

  public OutboxSchemaInitializer(
      DataSource dataSource, TableName table, OutboxRepository repository, boolean migrate) {
    this.dataSource = dataSource;
    this.table = table;
    this.repository = repository;
    this.migrate = migrate;
  }

  @Override
  public void afterPropertiesSet() {
    try {
      initialize();
    } catch (RuntimeException ex) {
      if (!TableMigrations.isConnectionFailure(ex)) {
        throw ex;
      }
      log.warn(
          "The database does not answer; the outbox table {} will be checked when it does: {}",
          table,
          ex.getMessage());
    }
  }

  /** Whether the table has been created or verified. */
  public boolean isInitialized() {
    return initialized;
  }

  /** Migrates or verifies the table; idempotent. */
  public synchronized void initialize() {
    if (initialized) {
      return;
    }
    if (migrate) {
      int applied =
          TableMigrations.migrate(
              dataSource,
              OutboxSchema.MIGRATIONS_LOCATION,
              table.schema(),
              table.table(),
              Map.of(
                  OutboxSchema.TABLE_PLACEHOLDER, table.qualified(),
                  OutboxSchema.TABLE_NAME_PLACEHOLDER, table.table()));
      log.info("Outbox table {} is up to date ({} migration(s) applied)", table, applied);
    } else {
      repository.verifySchema();
    }
    initialized = true;
  }

  @Override
  public String toString() {
    return "OutboxSchemaInitializer[" + table + (migrate ? ", migrate" : ", verify") + "]";
  }
}
