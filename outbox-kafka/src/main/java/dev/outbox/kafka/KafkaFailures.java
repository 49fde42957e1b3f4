package dev.outbox.kafka;

import dev.outbox.transport.Failures;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequiredAcksException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedCompressionTypeException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.springframework.kafka.KafkaException;

/**
 * Classifies send failures. A failure is retryable unless it is one that the same record sent with
 * the same configuration can never get past: the record or its batch is too large, it cannot be
 * serialized, the client may not write the topic, the topic name is invalid, or the broker rejects
 * the record or the request as such. Timeouts, disconnects, unknown topics (they may be created
 * later) and every other {@link RetriableException} are retryable, and so is anything not
 * recognised: retries are bounded, and a wrong "retryable" costs a few attempts where a wrong "not
 * retryable" would dead-letter a deliverable event.
 */
final class KafkaFailures {

  private static final List<Class<? extends Throwable>> NOT_RETRYABLE =
      List.of(
          SerializationException.class,
          RecordTooLargeException.class,
          RecordBatchTooLargeException.class,
          AuthorizationException.class,
          AuthenticationException.class,
          InvalidTopicException.class,
          InvalidRecordException.class,
          InvalidRequiredAcksException.class,
          InvalidConfigurationException.class,
          PolicyViolationException.class,
          UnsupportedCompressionTypeException.class,
          UnsupportedForMessageFormatException.class,
          UnsupportedVersionException.class);

  private static final List<Class<? extends Throwable>> TOO_LARGE =
      List.of(RecordTooLargeException.class, RecordBatchTooLargeException.class);

  private KafkaFailures() {}

  /**
   * Strips the wrappers around the Kafka client's exception: {@code CompletionException}, {@code
   * ExecutionException} and Spring Kafka's {@link KafkaException} (including {@code
   * KafkaProducerException}), whose message only says that a send failed.
   */
  static Throwable unwrap(Throwable failure) {
    Throwable current = Failures.unwrap(failure);
    while (current instanceof KafkaException && current.getCause() != null) {
      current = Failures.unwrap(current.getCause());
    }
    return current;
  }

  static boolean isRetryable(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof RetriableException) {
      return true;
    }
    for (Class<? extends Throwable> type : NOT_RETRYABLE) {
      if (type.isInstance(cause)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code errorClass} names an error raised because a record was too large. */
  static boolean isTooLarge(String errorClass) {
    for (Class<? extends Throwable> type : TOO_LARGE) {
      if (type.getName().equals(errorClass)) {
        return true;
      }
    }
    return false;
  }

  static boolean isTooLarge(Throwable failure) {
    Throwable cause = unwrap(failure);
    return TOO_LARGE.stream().anyMatch(type -> type.isInstance(cause));
  }
}
