package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.inbox.Inbox;
import dev.outbox.inbox.InboxDefaults;
import dev.outbox.inbox.InboxListener;
import dev.outbox.inbox.PostgresInboxStore;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.ResourceTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.ClassUtils;

/**
 * The inbox on the application's {@link DataSource}. Records the id on the connection of the active
 * Spring transaction (JDBC or JPA on that data source), or starts a transaction with the
 * application's transaction manager when none is active on it.
 */
public final class SpringInbox implements Inbox {

  private static final Logger log = LoggerFactory.getLogger(SpringInbox.class);
  private static final boolean JTA =
      ClassUtils.isPresent(
          "jakarta.transaction.UserTransaction", SpringInbox.class.getClassLoader());

  private final DataSource dataSource;
  private final PostgresInboxStore store;
  private final @Nullable TransactionTemplate transactions;
  private final InboxListener listener;
  private final Runnable ensureSchema;

  /**
   * @param transactions starts a transaction when none is active on {@code dataSource}; {@code
   *     null} makes such calls fail
   * @param ensureSchema run before each message (cheap once done): creates or checks the table if
   *     the database did not answer at startup
   */
  public SpringInbox(
      DataSource dataSource,
      PostgresInboxStore store,
      @Nullable TransactionTemplate transactions,
      InboxListener listener,
      Runnable ensureSchema) {
    this.dataSource = dataSource;
    this.store = store;
    this.transactions = transactions;
    this.listener = listener;
    this.ensureSchema = ensureSchema;
  }

  @Override
  public boolean handleOnce(String messageId, String consumer, Runnable handler) {
    check("message id", messageId);
    check("consumer name", consumer);
    ensureSchema.run();
    boolean joined =
        TransactionSynchronizationManager.isActualTransactionActive()
            && TransactionSynchronizationManager.getResource(dataSource) != null;
    if (joined && (transactions == null || !participates(transactions))) {
      return inTransaction(messageId, consumer, handler);
    }
    if (transactions == null) {
      throw new OutboxException(
          "The inbox needs a transaction on its DataSource to record message "
              + messageId
              + ", but none is active and no PlatformTransactionManager was chosen to start one"
              + " (none exists, or several and none is @Primary or the only one on this"
              + " DataSource).");
    }
    Boolean handled =
        transactions.execute(
            status -> {
              requireDataSourceTransaction(transactions, messageId);
              return inTransaction(messageId, consumer, handler);
            });
    return Boolean.TRUE.equals(handled);
  }

  private boolean inTransaction(String messageId, String consumer, Runnable handler) {
    Connection connection = DataSourceUtils.getConnection(dataSource);
    boolean recorded;
    try {
      requireTransactional(connection);
      recorded = store.record(connection, consumer, messageId);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
    if (!recorded) {
      log.debug("Skipped message {} for consumer {}: already handled", messageId, consumer);
      listener.duplicate(consumer, messageId);
      return false;
    }
    handler.run();
    if (TransactionSynchronizationManager.isSynchronizationActive()) {
      TransactionSynchronizationManager.registerSynchronization(
          new TransactionSynchronization() {
            @Override
            public void afterCommit() {
              listener.handled(consumer, messageId);
            }
          });
    }
    return true;
  }

  /**
   * Whether {@code transactions} would take part in the active transaction (it manages the bound
   * resource): then a failed handler marks that transaction rollback-only, as a participating
   * {@code @Transactional} method does, so the caller cannot commit the inbox row without the
   * handler's work.
   */
  private static boolean participates(TransactionTemplate transactions) {
    return transactions.getTransactionManager() instanceof ResourceTransactionManager manager
        && TransactionSynchronizationManager.hasResource(manager.getResourceFactory());
  }

  /**
   * Checks that the transaction {@code transactions} began holds a connection of the inbox's data
   * source, as JDBC and JPA transaction managers bind one. A transaction manager of another
   * resource does not: the record would be written on a connection of its own that nobody commits.
   * JTA binds no connection before the first use; the auto-commit check covers it.
   */
  private void requireDataSourceTransaction(TransactionTemplate transactions, String messageId) {
    PlatformTransactionManager manager = transactions.getTransactionManager();
    if (TransactionSynchronizationManager.getResource(dataSource) == null
        && !(JTA && Jta.manages(manager))) {
      throw new OutboxException(
          "The transaction manager "
              + (manager == null ? null : manager.getClass().getName())
              + " started a transaction that does not include the inbox's DataSource "
              + dataSource
              + ", so message "
              + messageId
              + " was not handled: its inbox record would be written outside that transaction. Use"
              + " a DataSourceTransactionManager or JpaTransactionManager for that DataSource.");
    }
  }

  private static void requireTransactional(Connection connection) {
    try {
      if (connection.getAutoCommit()) {
        throw new OutboxException(
            "The connection of the active transaction is in auto-commit mode; the inbox record"
                + " would be written outside the consumer's transaction.");
      }
    } catch (SQLException ex) {
      throw new OutboxException("Could not inspect the transaction's connection", ex);
    }
  }

  private static void check(String what, @Nullable String value) {
    if (value == null || value.isBlank()) {
      throw new OutboxException("The inbox needs a " + what + "; got " + quote(value));
    }
    if (value.length() > InboxDefaults.MAX_ID_LENGTH) {
      throw new OutboxException(
          "The "
              + what
              + " is "
              + value.length()
              + " characters long; the inbox accepts at most "
              + InboxDefaults.MAX_ID_LENGTH
              + ": "
              + value.substring(0, 40)
              + "...");
    }
  }

  private static String quote(@Nullable String value) {
    return value == null ? "null" : "'" + value + "'";
  }

  /** Loaded only when the JTA API is present. */
  private static final class Jta {
    static boolean manages(@Nullable PlatformTransactionManager manager) {
      return manager instanceof org.springframework.transaction.jta.JtaTransactionManager;
    }
  }
}
