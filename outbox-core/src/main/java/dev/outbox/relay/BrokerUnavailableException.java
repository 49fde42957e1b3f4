package dev.outbox.relay;

import dev.outbox.OutboxException;
import java.util.List;

/**
 * A relay cycle found the broker unreachable, for its whole batch or for some destinations only.
 * The events it could not send stay pending with their attempts unchanged, their keys held back for
 * a while; the relay reports itself unhealthy, and backs off when nothing of the batch went
 * through.
 */
public final class BrokerUnavailableException extends OutboxException {

  private final transient List<String> keptKeys;
  private final int settled;

  BrokerUnavailableException(int kept, List<String> keptKeys, int settled, Throwable cause) {
    super("The broker cannot be reached; " + kept + " event(s) kept for the next attempt", cause);
    this.keptKeys = keptKeys;
    this.settled = settled;
  }

  /** The keys of the events kept (events without a key have none). */
  List<String> keptKeys() {
    return keptKeys;
  }

  /**
   * How many events of the same batch went through all the same (published, set to retry or
   * dead-lettered): more than none when only some destinations are unavailable.
   */
  int settled() {
    return settled;
  }
}
