package dev.outbox.inbox.spring;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The acknowledgements a listener sends itself while its message is handled, held back until the
 * inbox transaction has ended: an acknowledgement is sent once the transaction committed and
 * dropped if it rolled back (the handling it confirms was undone); a negative acknowledgement
 * (Kafka {@code nack}, AMQP {@code basicNack}/{@code basicReject}) makes the transaction roll back,
 * so a redelivery is handled again, and is sent once it has. Calls made after the transaction ended
 * are sent at once.
 */
final class DeferredAcknowledgements implements TransactionSynchronization {

  private static final Logger log = LoggerFactory.getLogger(DeferredAcknowledgements.class);

  /** Sends one acknowledgement to the broker. */
  @FunctionalInterface
  interface Send {
    void send() throws Exception;
  }

  private record Step(String what, boolean positive, Send send) {}

  private final String messageId;
  private final String consumer;
  private final List<Step> steps = new ArrayList<>();
  private boolean ended;
  private boolean rejected;

  private DeferredAcknowledgements(String messageId, String consumer, boolean ended) {
    this.messageId = messageId;
    this.consumer = consumer;
    this.ended = ended;
  }

  /**
   * Starts holding back the acknowledgements of {@code messageId} until the transaction active on
   * this thread ends; without transaction synchronization they are sent at once.
   */
  static DeferredAcknowledgements untilTransactionEnds(String messageId, String consumer) {
    boolean synchronizing = TransactionSynchronizationManager.isSynchronizationActive();
    DeferredAcknowledgements deferred =
        new DeferredAcknowledgements(messageId, consumer, !synchronizing);
    if (synchronizing) {
      TransactionSynchronizationManager.registerSynchronization(deferred);
    }
    return deferred;
  }

  /** An acknowledgement: sent after the commit, dropped after a rollback. */
  void acknowledge(String what, Send send) {
    defer(new Step(what, true, send));
  }

  /** A negative acknowledgement: sent after the transaction has ended, whichever way. */
  void reject(String what, Send send) {
    synchronized (this) {
      rejected = true;
    }
    defer(new Step(what, false, send));
  }

  /** Whether the listener sent a negative acknowledgement. */
  synchronized boolean rejected() {
    return rejected;
  }

  private void defer(Step step) {
    synchronized (this) {
      if (!ended) {
        steps.add(step);
        return;
      }
    }
    send(step);
  }

  @Override
  public void afterCompletion(int status) {
    List<Step> due;
    synchronized (this) {
      ended = true;
      due = List.copyOf(steps);
      steps.clear();
    }
    boolean committed = status == STATUS_COMMITTED;
    for (Step step : due) {
      if (committed || !step.positive()) {
        send(step);
      } else {
        log.debug(
            "Dropped the listener's {} of message {} for consumer {}: its handling rolled back",
            step.what(),
            messageId,
            consumer);
      }
    }
  }

  private void send(Step step) {
    try {
      step.send().send();
    } catch (Exception ex) {
      log.warn(
          "Could not send the listener's {} of message {} for consumer {}: {}",
          step.what(),
          messageId,
          consumer,
          ex.toString());
    }
  }
}
