package dev.outbox.kafka;

import org.apache.kafka.common.errors.TimeoutException;

/**
 * A send failed because the producer has no metadata for its topic: it waited {@code max.block.ms}
 * for it in vain, or (at once) because an earlier send to the topic did and the topic has not
 * appeared since. Either the topic does not exist (then the event is charged an attempt like any
 * retryable failure) or no broker can be reached (then nothing is charged).
 */
public final class TopicNotAvailableException extends TimeoutException {

  private static final long serialVersionUID = 1L;

  private final String topic;

  TopicNotAvailableException(String topic, String message) {
    super(message);
    this.topic = topic;
  }

  /** The topic the failed send was for. */
  public String topic() {
    return topic;
  }
}
