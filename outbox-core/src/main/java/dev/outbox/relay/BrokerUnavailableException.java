package dev.outbox.relay;

import dev.outbox.OutboxException;

/**
 * A relay cycle found the broker unreachable. The events it could not send stay pending with their
 * attempts unchanged; the relay backs off and reports itself unhealthy.
 */
public final class BrokerUnavailableException extends OutboxException {

  BrokerUnavailableException(int kept, Throwable cause) {
    super("The broker cannot be reached; " + kept + " event(s) kept for the next attempt", cause);
  }
}
