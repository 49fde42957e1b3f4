package dev.outbox.inbox.spring;

import dev.outbox.inbox.InboxSchema;
import dev.outbox.inbox.InboxTable;
import dev.outbox.inbox.PostgresInboxStore;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.RelayTiming;
import dev.outbox.spring.DatabaseProbe;
import dev.outbox.spring.TableMigrations;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;

/**
 * Creates or upgrades the inbox table at startup with the library's own Flyway migrations and
 * history table ({@code <table>_schema_history}), or, with migrations off, checks that it exists.
 * If the database does not answer at startup, the application still starts and each message retries
 * this step until it succeeds; a message that comes while the database still does not answer fails
 * before its handler runs, recording nothing, and the listener container's error handling retries
 * it as any failure.
 *
 * <p>Each try first waits for a connection at most the outbox's database timeout, on a thread of
 * its own, as the outbox's check of its table does: a database that accepts connections and then
 * answers nothing would otherwise hold the startup up, and later each message, for as long as the
 * driver waits, with pgjdbc's defaults for ever. Such a database then counts as one that is down.
 * Once the database has answered, the migration itself takes as long as it takes.
 */
public final class InboxSchemaInitializer implements InitializingBean {

  private static final Logger log = LoggerFactory.getLogger(InboxSchemaInitializer.class);

  private final DataSource dataSource;
  private final PostgresInboxStore store;
  private final boolean migrate;
  private final DatabaseProbe probe;
  private volatile boolean initialized;

  /** With the database timeout of a relay with the default lease timeout (10 s). */
  public InboxSchemaInitializer(DataSource dataSource, PostgresInboxStore store, boolean migrate) {
    this(dataSource, store, migrate, RelayTiming.databaseTimeout(OutboxDefaults.LEASE_TIMEOUT));
  }

  /**
   * @param databaseTimeout the longest each try waits for the database to give it a connection (the
   *     outbox's database timeout: {@code OutboxAutoConfiguration.databaseTimeout(properties)})
   */
  public InboxSchemaInitializer(
      DataSource dataSource, PostgresInboxStore store, boolean migrate, Duration databaseTimeout) {
    this.dataSource = dataSource;
    this.store = store;
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
          "The database does not answer; the inbox table {} will be checked when it does: {}",
          store.table(),
          ex.getMessage());
    }
  }

  /**
   * Migrates or verifies the table; idempotent and cheap once done. Fails as a connection failure
   * if the database gives no connection within the database timeout.
   */
  public void initialize() {
    if (initialized) {
      return;
    }
    probe.awaitDatabase(
        (migrate ? "Could not migrate " : "Could not check the inbox table ")
            + store.table()
            + ": ");
    synchronized (this) {
      if (!initialized) {
        migrateOrVerify();
        initialized = true;
      }
    }
  }

  private void migrateOrVerify() {
    InboxTable table = store.table();
    if (migrate) {
      int applied =
          TableMigrations.migrate(
              dataSource,
              InboxSchema.MIGRATIONS_LOCATION,
              table.schema(),
              table.table(),
              Map.of(
                  InboxSchema.TABLE_PLACEHOLDER, table.qualified(),
                  InboxSchema.TABLE_NAME_PLACEHOLDER, table.table()));
      log.info("Inbox table {} is up to date ({} migration(s) applied)", table, applied);
    } else {
      store.verifySchema();
    }
  }
}
