package dev.outbox.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.jspecify.annotations.Nullable;

/**
 * The authentication and authorization failures the producer reported lately. The Kafka client
 * reports such a failure met while fetching metadata to one of the threads waiting for that
 * metadata; the others wait on until {@code max.block.ms} and fail with a plain timeout, which
 * would read as a missing topic. A timeout for a topic shortly after the credentials or the
 * permission for that topic were rejected is that rejection again, so it is reported as such.
 */
final class Rejections {

  private final long windowNanos;
  private volatile @Nullable Seen authentication;
  private final Map<String, Seen> authorization = new ConcurrentHashMap<>();

  private record Seen(RuntimeException failure, long at) {}

  /**
   * @param window how long a rejection explains later timeouts
   */
  Rejections(Duration window) {
    this.windowNanos = window.toNanos();
  }

  /** Notes a failure of a send to, or a metadata request for, {@code topic}. */
  void note(String topic, Throwable failure) {
    Throwable cause = KafkaFailures.unwrap(failure);
    if (cause instanceof AuthenticationException rejected) {
      authentication = new Seen(rejected, System.nanoTime());
    } else if (cause instanceof AuthorizationException rejected) {
      authorization.put(topic, new Seen(rejected, System.nanoTime()));
    }
  }

  /** The rejection that explains a timeout waiting for {@code topic}'s metadata now, or null. */
  @Nullable RuntimeException explain(String topic) {
    long now = System.nanoTime();
    Seen seen = authentication;
    if (seen != null && now - seen.at < windowNanos) {
      return seen.failure;
    }
    seen = authorization.get(topic);
    if (seen != null) {
      if (now - seen.at < windowNanos) {
        return seen.failure;
      }
      authorization.remove(topic, seen);
    }
    return null;
  }
}
