package dev.outbox.relay;

import dev.outbox.OutboxException;

/**
 * A relay cycle found the broker unreachable, or some destinations closed. The message tells the
 * two apart: "The broker cannot be reached" for the former, "A destination refuses events (the
 * broker answers)" when every event kept was held back with its destination (a missing dead-letter
 * topic, a topic without permission). The events it could not send stay pending with their attempts
 * unchanged; the relay reports itself unhealthy and backs off, unless every event kept was held
 * back with its destination, so that the next batch reads other events.
 */
public final class BrokerUnavailableException extends OutboxException {

  private final boolean heldBack;

  BrokerUnavailableException(int kept, boolean heldBack, Throwable cause) {
    super(
        heldBack
            ? "A destination refuses events (the broker answers); "
                + kept
                + " event(s) kept for the next attempt, held back with their key or destination"
            : "The broker cannot be reached; " + kept + " event(s) kept for the next attempt",
        cause);
    this.heldBack = heldBack;
  }

  /**
   * Whether every event kept was held back because its destination alone refused it (the others
   * take events), so that the relay goes on with other events instead of pausing.
   */
  boolean heldBack() {
    return heldBack;
  }
}
