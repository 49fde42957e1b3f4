package dev.outbox.kafka;

import org.apache.kafka.common.KafkaException;

/**
 * A dead letter could not be sent for a reason that lies with the dead-letter topic or the cluster,
 * not with the record: the topic does not exist, the client may not write it, the cluster is away
 * or degraded. The relay keeps the event as it was (no attempt charged, not {@code DEAD}) and
 * reports the broker unavailable, so an event is never {@code DEAD} without its dead letter for
 * such a reason.
 */
public final class DeadLetterNotSentException extends KafkaException {

  private static final long serialVersionUID = 1L;

  DeadLetterNotSentException(String deadLetterTopic, Throwable cause) {
    super("Dead letter not sent to " + deadLetterTopic, cause);
  }
}
