package dev.outbox.rabbit;

import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.transport.Failures;
import org.springframework.amqp.support.converter.MessageConversionException;

/**
 * Decides whether a failed publish may succeed if tried again.
 *
 * <p>Not retryable (dead-lettered at once): an invalid destination, a message that cannot be
 * converted, a message returned as unroutable (no queue bound for its routing key) unless the
 * transport retries those, a channel closed with access refused (403: the user may not write to the
 * exchange) or precondition failed (406: on publish, the message is larger than the broker
 * accepts).
 *
 * <p>Retryable: nacks, timeouts, missing exchanges (404) and channel loss. Unknown failures are
 * retried too: the retry policy bounds them, and an unnecessary retry loses nothing. Failures of
 * the broker as a whole (no connection, wrong credentials, a blocked connection, a missing
 * dead-letter exchange) are not classified here: they are {@link RabbitUnavailableException}s,
 * which the relay does not count as attempts.
 */
final class RabbitFailureClassifier {

  private RabbitFailureClassifier() {}

  static boolean isRetryable(Throwable failure, boolean retryUnroutable) {
    for (Throwable t = Failures.unwrap(failure); t != null; t = t.getCause()) {
      if (t instanceof RabbitPublishException publish) {
        return publish.reason() == RabbitPublishException.Reason.RETURNED
            ? retryUnroutable
            : publish.isRetryable();
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
