package dev.outbox.relay;

import dev.outbox.OutboxException;

/**
 * A relay cycle found the broker unreachable, or some destinations closed. The message tells the
 * two apart: "The broker cannot be reached" for the former, "A destination refuses events (the
 * broker answers)" when every event kept was kept because its destination alone refused it (a
 * missing dead-letter topic, a topic without permission), followed by "held back with their key or
 * destination" when every one of them was held back with it. The events it could not send stay
 * pending with their attempts unchanged; the relay reports itself unhealthy and backs off, unless
 * every event kept was held back with its destination, so that the next batch reads other events.
 * An unkeyed event whose dead letter is refused cannot be held back (its own destination takes
 * events), so the relay backs off after it as after an outage.
 */
public final class BrokerUnavailableException extends OutboxException {

  private final boolean heldBack;

  /**
   * @param kept how many events the cycle kept for the next attempt
   * @param refused whether each of them was refused by its destination (or its dead-letter
   *     destination) alone, the broker answering
   * @param heldBack whether each of them was held back with its key or destination; implies {@code
   *     refused}
   */
  BrokerUnavailableException(int kept, boolean refused, boolean heldBack, Throwable cause) {
    super(message(kept, refused, heldBack), cause);
    this.heldBack = heldBack;
  }

  private static String message(int kept, boolean refused, boolean heldBack) {
    if (!refused) {
      return "The broker cannot be reached; " + kept + " event(s) kept for the next attempt";
    }
    return "A destination refuses events (the broker answers); "
        + kept
        + " event(s) kept for the next attempt"
        + (heldBack ? ", held back with their key or destination" : "");
  }

  /**
   * Whether every event kept was held back because its destination alone refused it (the others
   * take events), so that the relay goes on with other events instead of pausing.
   */
  boolean heldBack() {
    return heldBack;
  }
}
