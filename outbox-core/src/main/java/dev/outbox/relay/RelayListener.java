package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import java.time.Duration;
import java.util.UUID;

/** Observes the relay's outcomes, for metrics. Called on the relay thread; must be quick. */
public interface RelayListener {

  /** An event was acknowledged by the broker, {@code sinceWrite} after it was written. */
  default void published(OutboxEvent event, Duration sinceWrite) {}

  /** An attempt failed and the event will be tried again. */
  default void retried(OutboxEvent event, Throwable failure) {}

  /** The event will not be tried again; it is DEAD in the table. */
  default void deadLettered(OutboxEvent event, Throwable failure, boolean deadLetterSent) {}

  /**
   * A batch ended: {@code attempted} events were sent (acknowledged or not), and the batch took
   * {@code took} from reading its candidates to recording the outcomes.
   */
  default void batchCompleted(int attempted, Duration took) {}

  /**
   * A pending row could not be decoded into an event (another writer stored something the relay
   * cannot send); it is set DEAD with {@code reason}, without a dead letter.
   */
  default void undecodable(UUID id, String reason) {}

  /** A relay cycle failed as a whole (database or unexpected error). */
  default void cycleFailed(Throwable failure) {}

  static RelayListener none() {
    return new RelayListener() {};
  }
}
