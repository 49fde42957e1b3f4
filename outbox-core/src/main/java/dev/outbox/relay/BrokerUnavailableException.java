package dev.outbox.relay;

import dev.outbox.OutboxException;
import java.util.Map;

/**
 * A relay cycle found the broker unreachable, for its whole batch or for some destinations only.
 * The events it could not send stay pending with their attempts unchanged, their keys held back for
 * a while; the relay reports itself unhealthy, and backs off when nothing of the batch went
 * through.
 */
public final class BrokerUnavailableException extends OutboxException {

  private final transient Map<String, String> kept;
  private final int settled;

  BrokerUnavailableException(int count, Map<String, String> kept, int settled, Throwable cause) {
    super("The broker cannot be reached; " + count + " event(s) kept for the next attempt", cause);
    this.kept = kept;
    this.settled = settled;
  }

  /** The keys of the events kept, each to its event's destination (unkeyed events left out). */
  Map<String, String> kept() {
    return kept;
  }

  /**
   * How many events of the same batch went through all the same (published, set to retry or
   * dead-lettered): more than none when only some destinations are unavailable.
   */
  int settled() {
    return settled;
  }
}
