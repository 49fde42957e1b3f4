package dev.outbox.rabbit;

import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.transport.Failures;
import org.springframework.amqp.support.converter.MessageConversionException;

/**
 * Decides whether a failed publish may succeed if tried again.
 *
 * <p>Not retryable (dead-lettered at once): an invalid destination, a message that cannot be
 * converted, a channel closed with access refused (403: the user may not write to the exchange) or
 * precondition failed (406: on publish, the message is larger than the broker accepts).
 *
 * <p>Retryable: returns (no queue bound yet), nacks, timeouts, missing exchanges (404), connection
 * and channel loss, and connection-level authentication failures — the latter concern every event
 * alike and are fixed by an operator, not by dead-lettering. Unknown failures are retried too: the
 * retry policy bounds them, and an unnecessary retry loses nothing.
 */
final class RabbitFailureClassifier {

  private RabbitFailureClassifier() {}

  static boolean isRetryable(Throwable failure) {
    for (Throwable t = Failures.unwrap(failure); t != null; t = t.getCause()) {
      if (t instanceof RabbitPublishException publish) {
        return publish.isRetryable();
      }
      if (t instanceof MessageConversionException) {
        return false;
      }
      if (t instanceof ShutdownSignalException shutdown && !shutdown.isHardError()) {
        int code = RabbitPublishException.replyCodeIn(shutdown.getMessage());
        if (code == RabbitPublishException.ACCESS_REFUSED
            || code == RabbitPublishException.PRECONDITION_FAILED) {
          return false;
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return true;
  }
}
