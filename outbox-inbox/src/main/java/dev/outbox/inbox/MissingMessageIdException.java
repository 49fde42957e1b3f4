package dev.outbox.inbox;

import dev.outbox.OutboxException;

/**
 * A message reached an idempotent listener without an id to de-duplicate by. Retrying cannot help:
 * mark it not retryable in the listener's error handler so it goes to the dead-letter topic or
 * queue at once.
 */
public class MissingMessageIdException extends OutboxException {

  public MissingMessageIdException(String message) {
    super(message);
  }
}
