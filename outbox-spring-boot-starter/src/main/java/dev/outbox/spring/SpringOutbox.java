package dev.outbox.spring;

import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.OutboxMessage;
import dev.outbox.OutboxWriter;
import dev.outbox.store.Slots;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The injectable publisher. Writes on the connection of the caller's transaction (Spring JDBC or
 * JPA on the same {@link DataSource}), and wakes the local relay once that transaction commits.
 * Without an active transaction on that data source it fails instead of writing on its own.
 */
public final class SpringOutbox implements Outbox {

  private final DataSource dataSource;
  private final OutboxWriter writer;
  private final LongConsumer afterCommit;

  /**
   * @param afterCommit run once after each committing transaction that wrote events, with the slots
   *     it wrote to as a bit set ({@link Slots}): wakes the relay; must not throw
   */
  public SpringOutbox(DataSource dataSource, OutboxWriter writer, LongConsumer afterCommit) {
    this.dataSource = dataSource;
    this.writer = writer;
    this.afterCommit = afterCommit;
  }

  /**
   * The data source this outbox writes to, in its transactions: where its table is, for tools that
   * read it (the {@code outbox-test} kit).
   */
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public List<UUID> publishAll(List<OutboxMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    Object transaction = requireTransaction();
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      requireTransactional(connection);
      List<UUID> ids = writer.write(connection, messages);
      long slots = 0;
      for (int i = 0; i < ids.size(); i++) {
        slots |= Slots.bit(Slots.of(messages.get(i).key(), ids.get(i)));
      }
      registerWakeUp(slots, transaction);
      return ids;
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  /**
   * Whether a transaction is active on {@code dataSource}: its connection is out of auto-commit,
   * and the transaction has not completed. A transaction of another resource does not count, nor
   * does a connection that Spring only keeps for reuse while such a transaction runs.
   */
  static boolean transactionActiveOn(DataSource dataSource) {
    if (!TransactionSynchronizationManager.isActualTransactionActive() || hasCompleted()) {
      return false;
    }
    // No connection bound yet, under a manager that binds one at the first use (JTA): the first
    // use tells, as it would for the method's own writes. Under a transaction of another resource,
    // it binds a connection in auto-commit for the transaction's duration, as the method's first
    // JDBC call would.
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      return !connection.getAutoCommit();
    } catch (SQLException ex) {
      throw new OutboxException("Could not inspect the transaction's connection", ex);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  /**
   * Whether the current transaction has completed and its callbacks run: Spring clears the
   * transaction's synchronizations before its after-completion callbacks, and keeps its resources
   * bound until they return.
   */
  static boolean hasCompleted() {
    return TransactionSynchronizationManager.isActualTransactionActive()
        && !TransactionSynchronizationManager.isSynchronizationActive();
  }

  /** Returns the resource the transaction bound for the data source (its connection holder). */
  private Object requireTransaction() {
    if (!TransactionSynchronizationManager.isActualTransactionActive()) {
      throw new OutboxException(
          "No transaction is active: the outbox writes events only inside the business"
              + " transaction. Call it from a @Transactional method (mind self-invocation, which"
              + " bypasses the proxy) or use @PublishEvent, which starts one when needed.");
    }
    if (hasCompleted()) {
      throw new OutboxException(
          "The transaction has already completed: this runs in an after-completion callback (an"
              + " @TransactionalEventListener after commit, for one), where writes join a"
              + " transaction that will not commit again. Write in a new transaction"
              + " (@Transactional(propagation = REQUIRES_NEW)), or use @PublishEvent, which starts"
              + " one there.");
    }
    Object transaction = TransactionSynchronizationManager.getResource(dataSource);
    if (transaction == null) {
      throw new OutboxException(
          "The active transaction is not bound to the outbox DataSource. The outbox must use the"
              + " DataSource of the business transaction's transaction manager (JPA or JDBC);"
              + " with several data sources, define the outbox beans for the right one.");
    }
    return transaction;
  }

  private static void requireTransactional(Connection connection) {
    try {
      if (connection.getAutoCommit()) {
        throw new OutboxException(
            "The connection of the active transaction is in auto-commit mode; the event would be"
                + " written outside the business transaction.");
      }
    } catch (SQLException ex) {
      throw new OutboxException("Could not inspect the transaction's connection", ex);
    }
  }

  /**
   * Adds the slots to this transaction's wake-up, registering it with the first event. The wake-up
   * is found through a transaction resource (one map lookup) rather than by scanning the registered
   * synchronizations, which Spring copies and sorts on every call. A bound wake-up counts only if
   * it belongs to this transaction (the same connection holder): one left bound by a transaction
   * that is completing (a new transaction started by an after-commit listener runs before that
   * one's clean-up) or that completed elsewhere is replaced, never added to.
   */
  private void registerWakeUp(long slots, Object transaction) {
    if (!TransactionSynchronizationManager.isSynchronizationActive()) {
      return;
    }
    if (TransactionSynchronizationManager.getResource(this) instanceof WakeUpAfterCommit wakeUp
        && wakeUp.transaction == transaction) {
      wakeUp.slots |= slots;
      return;
    }
    WakeUpAfterCommit wakeUp = new WakeUpAfterCommit(this, transaction, slots);
    TransactionSynchronizationManager.registerSynchronization(wakeUp);
    wakeUp.bind();
  }

  /**
   * Wakes the relay once, for the slots written, after the transaction that wrote events commits.
   * It is bound as a resource while its transaction is the current one: unbound while that
   * transaction is suspended (an inner {@code REQUIRES_NEW} transaction gets a wake-up of its own)
   * and when it completes. It unbinds only itself, never a wake-up another transaction bound since.
   */
  private static final class WakeUpAfterCommit implements TransactionSynchronization {
    final SpringOutbox outbox;
    final Object transaction;
    long slots;

    WakeUpAfterCommit(SpringOutbox outbox, Object transaction, long slots) {
      this.outbox = outbox;
      this.transaction = transaction;
      this.slots = slots;
    }

    void bind() {
      TransactionSynchronizationManager.unbindResourceIfPossible(outbox);
      TransactionSynchronizationManager.bindResource(outbox, this);
    }

    void unbind() {
      if (TransactionSynchronizationManager.getResource(outbox) == this) {
        TransactionSynchronizationManager.unbindResource(outbox);
      }
    }

    @Override
    public void suspend() {
      unbind();
    }

    @Override
    public void resume() {
      bind();
    }

    @Override
    public void afterCommit() {
      outbox.afterCommit.accept(slots);
    }

    @Override
    public void afterCompletion(int status) {
      unbind();
    }
  }
}
