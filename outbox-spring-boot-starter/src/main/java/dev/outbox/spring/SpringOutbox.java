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

  @Override
  public List<UUID> publishAll(List<OutboxMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    requireTransaction();
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      requireTransactional(connection);
      List<UUID> ids = writer.write(connection, messages);
      long slots = 0;
      for (int i = 0; i < ids.size(); i++) {
        slots |= Slots.bit(Slots.of(messages.get(i).key(), ids.get(i)));
      }
      registerWakeUp(slots);
      return ids;
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }

  private void requireTransaction() {
    if (!TransactionSynchronizationManager.isActualTransactionActive()) {
      throw new OutboxException(
          "No transaction is active: the outbox writes events only inside the business"
              + " transaction. Call it from a @Transactional method (mind self-invocation, which"
              + " bypasses the proxy) or use @PublishEvent, which starts one when needed.");
    }
    if (TransactionSynchronizationManager.getResource(dataSource) == null) {
      throw new OutboxException(
          "The active transaction is not bound to the outbox DataSource. The outbox must use the"
              + " DataSource of the business transaction's transaction manager (JPA or JDBC);"
              + " with several data sources, define the outbox beans for the right one.");
    }
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
   * synchronizations, which Spring copies and sorts on every call.
   */
  private void registerWakeUp(long slots) {
    if (!TransactionSynchronizationManager.isSynchronizationActive()) {
      return;
    }
    if (TransactionSynchronizationManager.getResource(this) instanceof WakeUpAfterCommit wakeUp) {
      wakeUp.slots |= slots;
      return;
    }
    WakeUpAfterCommit wakeUp = new WakeUpAfterCommit(this, slots);
    TransactionSynchronizationManager.registerSynchronization(wakeUp);
    TransactionSynchronizationManager.bindResource(this, wakeUp);
  }

  /**
   * Wakes the relay once, for the slots written, after the transaction that wrote events commits.
   * It is bound as a resource of its transaction for as long as that transaction is the current
   * one: unbound while it is suspended (an inner {@code REQUIRES_NEW} transaction gets a wake-up of
   * its own) and when it completes.
   */
  private static final class WakeUpAfterCommit implements TransactionSynchronization {
    final SpringOutbox outbox;
    long slots;

    WakeUpAfterCommit(SpringOutbox outbox, long slots) {
      this.outbox = outbox;
      this.slots = slots;
    }

    @Override
    public void suspend() {
      TransactionSynchronizationManager.unbindResource(outbox);
    }

    @Override
    public void resume() {
      TransactionSynchronizationManager.bindResource(outbox, this);
    }

    @Override
    public void afterCommit() {
      outbox.afterCommit.accept(slots);
    }

    @Override
    public void afterCompletion(int status) {
      TransactionSynchronizationManager.unbindResourceIfPossible(outbox);
    }
  }
}
