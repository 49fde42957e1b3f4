package dev.outbox.kafka;

import dev.outbox.transport.Failures;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequiredAcksException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedCompressionTypeException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.springframework.kafka.KafkaException;

/**
 * Classifies send failures into three kinds.
 *
 * <ul>
 *   <li><b>Systemic</b> ({@link #isSystemic}): the cluster, the credentials or the permissions are
 *       at fault, not the event — authentication and authorization failures, a broker that does not
 *       support what the producer sends, too few in-sync replicas, a broker storage error, lost
 *       connections, and timeouts while the producer waits for acknowledgements (delivery timeout,
 *       request timeouts, a full buffer, the relay's own publish timeout). The transport reports
 *       them as "broker unavailable": no attempt is charged and nothing is dead-lettered, however
 *       long they last; the relay backs off and reports itself unhealthy with the cause.
 *   <li><b>Not retryable</b> ({@link #isRetryable} false): the same record can never get past them
 *       — it or its batch is too large, it cannot be serialized, the topic name is invalid, or the
 *       broker rejects the record or the request as such. The event is dead-lettered at once.
 *   <li><b>Retryable</b>: everything else, notably a topic that does not exist ({@link
 *       TopicNotAvailableException} while brokers are reachable; it may be created later). The
 *       event is charged an attempt and retried with backoff; retries are bounded, so a wrong
 *       "retryable" costs a few attempts where a wrong "not retryable" would dead-letter a
 *       deliverable event.
 * </ul>
 */
final class KafkaFailures {

  private static final List<Class<? extends Throwable>> NOT_RETRYABLE =
      List.of(
          SerializationException.class,
          RecordTooLargeException.class,
          RecordBatchTooLargeException.class,
          InvalidTopicException.class,
          InvalidRecordException.class,
          InvalidRequiredAcksException.class,
          InvalidConfigurationException.class,
          PolicyViolationException.class);

  private static final List<Class<? extends Throwable>> SYSTEMIC =
      List.of(
          AuthenticationException.class,
          AuthorizationException.class,
          UnsupportedVersionException.class,
          UnsupportedCompressionTypeException.class,
          UnsupportedForMessageFormatException.class,
          NotEnoughReplicasException.class,
          NotEnoughReplicasAfterAppendException.class,
          KafkaStorageException.class,
          NetworkException.class,
          DisconnectException.class,
          TimeoutException.class,
          java.util.concurrent.TimeoutException.class,
          DeadLetterNotSentException.class);

  /** Failures caused by the record itself, which no change to the cluster can get past. */
  private static final List<Class<? extends Throwable>> CAUSED_BY_RECORD =
      List.of(
          SerializationException.class,
          RecordTooLargeException.class,
          RecordBatchTooLargeException.class,
          InvalidTopicException.class,
          InvalidRecordException.class);

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

  /**
   * Whether the failure lies with the cluster, the credentials or the permissions rather than with
   * the event. A missing topic ({@link TopicNotAvailableException}) is not: whether it is depends
   * on whether any broker can be reached, which only the producer knows.
   */
  static boolean isSystemic(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof TopicNotAvailableException) {
      return false;
    }
    return isAny(cause, SYSTEMIC);
  }

  static boolean isRetryable(Throwable failure) {
    Throwable cause = unwrap(failure);
    return cause instanceof RetriableException || !isAny(cause, NOT_RETRYABLE);
  }

  /** Whether the record itself made the send fail, so that sending it anywhere fails alike. */
  static boolean isCausedByRecord(Throwable failure) {
    return isAny(unwrap(failure), CAUSED_BY_RECORD);
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
    return isAny(unwrap(failure), TOO_LARGE);
  }

  private static boolean isAny(Throwable cause, List<Class<? extends Throwable>> types) {
    for (Class<? extends Throwable> type : types) {
      if (type.isInstance(cause)) {
        return true;
      }
    }
    return false;
  }
}
