package dev.outbox.kafka;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topics for which a send waited {@code max.block.ms} for metadata in vain (the topic does not
 * exist, or no broker can be reached). The Kafka client blocks every such send for the full {@code
 * max.block.ms}; once one did, later sends to the topic fail at once instead, until a probe on a
 * thread of its own finds the topic in the metadata again. So a topic that is missing costs the
 * relay one wait, not one per event or per batch, however many missing topics a batch interleaves,
 * and sends to it go through as soon as it exists. The events are classified as usual.
 *
 * <p>A topic that no send asked for within {@link
 * KafkaOutboxDefaults#UNAVAILABLE_TOPIC_FORGET_AFTER} is no longer probed; a later send to it waits
 * once again.
 */
final class UnavailableTopics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UnavailableTopics.class);

  private final Predicate<String> available;
  private final Duration probePause;
  private final long forgetNanos;
  private final Map<String, Entry> topics = new ConcurrentHashMap<>();
  private final Signal marked = new Signal();
  private @Nullable Thread prober;

  /**
   * @param available whether a topic is in the producer's metadata; may block up to {@code
   *     max.block.ms} while it is not, and may throw
   * @param probePause the pause between rounds of probes (a probe that fails fast, e.g. for lack of
   *     permission, would otherwise spin)
   * @param forgetAfter how long a topic is probed without any send asking for it
   */
  UnavailableTopics(Predicate<String> available, Duration probePause, Duration forgetAfter) {
    this.available = available;
    this.probePause = probePause;
    this.forgetNanos = forgetAfter.toNanos();
  }

  /**
   * @param message the client's message from the send that waited
   * @param askedAt when a send last asked for the topic
   */
  private record Entry(String message, long askedAt) {}

  /**
   * Records that a send to {@code topic} waited for metadata in vain, with the client's message.
   */
  void markUnavailable(String topic, String message) {
    topics.put(topic, new Entry(message, System.nanoTime()));
    startProber();
    marked.signal();
  }

  /** The failure for a send to {@code topic} while it is unavailable, or null to send. */
  @Nullable TopicNotAvailableException check(String topic) {
    Entry entry = topics.computeIfPresent(topic, (t, e) -> new Entry(e.message, System.nanoTime()));
    if (entry == null) {
      return null;
    }
    return new TopicNotAvailableException(
        topic,
        entry.message
            + " (an earlier send waited for it; this one fails at once until the topic appears in"
            + " the metadata)");
  }

  private synchronized void startProber() {
    if (prober != null || marked.isClosed()) {
      return;
    }
    prober = new NamedThreads("outbox-kafka").thread("topic-probe", this::run);
    prober.start();
  }

  private void run() {
    try {
      while (!marked.isClosed()) {
        if (topics.isEmpty()) {
          marked.await();
          continue;
        }
        for (String topic : List.copyOf(topics.keySet())) {
          probe(topic);
        }
        marked.await(probePause);
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  private void probe(String topic) {
    Entry entry = topics.get(topic);
    if (entry == null) {
      return;
    }
    if (System.nanoTime() - entry.askedAt > forgetNanos) {
      topics.remove(topic, entry);
      return;
    }
    try {
      if (available.test(topic)) {
        topics.remove(topic);
        log.debug("Topic {} is in the producer's metadata again", topic);
      }
    } catch (RuntimeException ex) {
      log.debug("Topic {} still not available: {}", topic, ex.toString());
    }
  }

  /** Stops the probe thread. */
  @Override
  public synchronized void close() {
    marked.close();
    if (prober != null) {
      prober.interrupt();
    }
  }
}
