package dev.outbox;

import org.jspecify.annotations.Nullable;

/** The one unchecked exception root of the outbox. */
public class OutboxException extends RuntimeException {

  public OutboxException(String message) {
    super(message);
  }

  public OutboxException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
