package dev.outbox.inbox.spring;

import dev.outbox.inbox.InboxSchema;
import dev.outbox.inbox.InboxTable;
import dev.outbox.inbox.PostgresInboxStore;
import dev.outbox.spring.TableMigrations;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;

/**
 * Creates or upgrades the inbox table at startup with the library's own Flyway migrations and
 * history table ({@code <table>_schema_history}), or, with migrations off, checks that it exists.
 * If the database does not answer at startup, the application still starts and the first message
 * retries this step.
 */
public final class InboxSchemaInitializer implements InitializingBean {

  private static final Logger log = LoggerFactory.getLogger(InboxSchemaInitializer.class);

  private final DataSource dataSource;
  private final PostgresInboxStore store;
  private final boolean migrate;
  private volatile boolean initialized;

  public InboxSchemaInitializer(DataSource dataSource, PostgresInboxStore store, boolean migrate) {
    this.dataSource = dataSource;
    this.store = store;
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
          "The database does not answer; the inbox table {} will be checked when it does: {}",
          store.table(),
          ex.getMessage());
    }
  }

  /** Migrates or verifies the table; idempotent and cheap once done. */
  public void initialize() {
    if (initialized) {
      return;
    }
    synchronized (this) {
      if (initialized) {
        return;
      }
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
      initialized = true;
    }
  }
}
