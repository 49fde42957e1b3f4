package dev.outbox.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.errors.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Topics for which a send just waited {@code max.block.ms} for metadata in vain (the broker is
 * unreachable or the topic does not exist). The Kafka client blocks every such send for the full
 * {@code max.block.ms}; for a quiet period after one did, later sends to the topic fail at once
 * instead, so that a batch of events to an unreachable topic costs the relay one wait, not one per
 * event. The events are retried as usual.
 */
final class UnavailableTopics {

  private final Map<String, Long> quietUntil = new ConcurrentHashMap<>();
  private final long quietNanos;

  UnavailableTopics(Duration quietPeriod) {
    this.quietNanos = quietPeriod.toNanos();
  }

  /** Records that a send to {@code topic} timed out waiting for metadata. */
  void markUnavailable(String topic) {
    if (quietNanos > 0) {
      quietUntil.put(topic, System.nanoTime() + quietNanos);
    }
  }

  /** A failure for a send to {@code topic} in its quiet period, or null to send. */
  @Nullable TimeoutException check(String topic) {
    Long until = quietUntil.get(topic);
    if (until == null) {
      return null;
    }
    if (System.nanoTime() - until >= 0) {
      quietUntil.remove(topic, until);
      return null;
    }
    return new TimeoutException(
        "Topic "
            + topic
            + " was not available in metadata for an earlier send moments ago; not waiting again"
            + " yet");
  }
}
