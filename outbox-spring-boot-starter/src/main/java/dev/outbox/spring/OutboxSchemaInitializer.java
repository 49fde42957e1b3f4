package dev.outbox.spring;

import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.RelayTiming;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.TableName;
import java.time.Duration;
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
 *
 * <p>Each try first waits for a connection at most the outbox's database timeout, on a thread of
 * its own: a database that accepts connections and then answers nothing would otherwise hold the
 * startup up for as long as the driver waits, with pgjdbc's defaults for ever. Once the database
 * has answered, the migration itself takes as long as it takes.
 */
public final class OutboxSchemaInitializer implements InitializingBean {

  private static final Logger log = LoggerFactory.getLogger(OutboxSchemaInitializer.class);

  private final DataSource dataSource;
  private final TableName table;
  private final OutboxRepository repository;
  private final boolean migrate;
  private final DatabaseProbe probe;
  private volatile boolean initialized;

  /** With the database timeout of a relay with the default lease timeout (10 s). */
  public OutboxSchemaInitializer(
      DataSource dataSource, TableName table, OutboxRepository repository, boolean migrate) {
    this(
        dataSource,
        table,
        repository,
        migrate,
        RelayTiming.databaseTimeout(OutboxDefaults.LEASE_TIMEOUT));
  }

  /**
   * @param databaseTimeout the longest each try waits for the database to give it a connection (the
   *     relay's {@code RelayTiming.databaseTimeout()})
   */
  public OutboxSchemaInitializer(
      DataSource dataSource,
      TableName table,
      OutboxRepository repository,
      boolean migrate,
      Duration databaseTimeout) {
    this.dataSource = dataSource;
    this.table = table;
    this.repository = repository;
    this.migrate = migrate;
    this.probe = new DatabaseProbe(dataSource, databaseTimeout);
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

  /**
   * Migrates or verifies the table; idempotent. Fails as a connection failure if the database gives
   * no connection within the database timeout.
   */
  public void initialize() {
    if (initialized) {
      return;
    }
    probe.awaitDatabase(
        migrate
            ? "Could not migrate " + table + ": "
            : "Could not check the outbox table '" + table + "': ");
    synchronized (this) {
      if (!initialized) {
        migrateOrVerify();
        initialized = true;
      }
    }
  }

  private void migrateOrVerify() {
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
  }

  @Override
  public String toString() {
    return "OutboxSchemaInitializer[" + table + (migrate ? ", migrate" : ", verify") + "]";
  }
}
