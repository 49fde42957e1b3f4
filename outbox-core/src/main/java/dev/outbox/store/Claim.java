package dev.outbox.store;

import dev.outbox.OutboxEvent;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * Claimed events, locked until {@link #complete} or {@link #close}. Closing without completing
 * releases the events untouched, so they are claimed again.
 */
public interface Claim extends AutoCloseable {

  /** The claimed events, in write order. */
  List<OutboxEvent> events();

  /**
   * Records the outcome of the batch in one transaction: deletes the published events, schedules
   * the retries and marks the dead ones. Events in none of the lists stay pending as they were.
   */
  void complete(Collection<UUID> published, List<Retry> retries, List<Dead> dead);

  @Override
  void close();

  /** A failed event to try again after {@code delay}. */
  record Retry(UUID id, int attempts, Duration delay, String error) {}

  /** A failed event that will not be tried again. */
  record Dead(UUID id, int attempts, String error) {}
}
