package dev.outbox.rabbit;

import dev.outbox.OutboxException;
import org.jspecify.annotations.Nullable;

/**
 * RabbitMQ as a whole cannot take messages now: no connection can be opened (refused, wrong
 * credentials, no access to the virtual host), the broker blocks publishing (memory or disk alarm),
 * the dead-letter exchange does not exist, or the socket failed a write on the old connection and
 * again on a new one (reset, broken pipe). The relay charges no attempt for such a failure,
 * dead-letters nothing, keeps the events and reports itself unhealthy until the cause is gone.
 */
public final class RabbitUnavailableException extends OutboxException {

  RabbitUnavailableException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
