package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * A transport that keeps every event it is given in memory and acknowledges it at once, in place of
 * a broker. The relay publishes to it exactly as it would to Kafka or RabbitMQ (and then deletes
 * the rows), so a test sees what would have reached the broker: {@link #published()}. Thread-safe.
 */
public class CapturingOutboxTransport implements OutboxTransport {

  /** Appended to the destination to name the dead-letter destination. */
  public static final String DEAD_LETTER_SUFFIX = "-dlt";

  private final List<OutboxEvent> published = new ArrayList<>();
  private final List<OutboxEvent> deadLettered = new ArrayList<>();

  /** The ids of the events published before the last {@link #clear()}. */
  private final Set<UUID> cleared = new HashSet<>();

  /**
   * Captures {@code event}, unless it was published before the last {@link #clear()}: a late
   * duplicate ({@code outbox.test.duplicate-delay}) of an earlier test's event is acknowledged but
   * not counted as the next test's.
   */
  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    synchronized (published) {
      if (!cleared.contains(event.id())) {
        published.add(event);
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    synchronized (deadLettered) {
      deadLettered.add(event);
    }
    return CompletableFuture.completedFuture(null);
  }

  /** Nothing this transport does can fail, so anything that does is worth another try. */
  @Override
  public boolean isRetryable(Throwable failure) {
    return true;
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return event.destination() + DEAD_LETTER_SUFFIX;
  }

  /** What was published since the start or the last {@link #clear()}, in publishing order. */
  public OutboxEvents published() {
    synchronized (published) {
      return OutboxEvents.of(published);
    }
  }

  /** What was sent to a dead-letter destination since the start or the last {@link #clear()}. */
  public OutboxEvents deadLettered() {
    synchronized (deadLettered) {
      return OutboxEvents.of(deadLettered);
    }
  }

  /** Forgets what was captured; copies of those events sent later are not captured either. */
  public void clear() {
    synchronized (published) {
      for (OutboxEvent event : published) {
        cleared.add(event.id());
      }
      published.clear();
    }
    synchronized (deadLettered) {
      deadLettered.clear();
    }
  }
}
