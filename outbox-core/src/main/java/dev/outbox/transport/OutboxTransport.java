package dev.outbox.transport;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxDefaults;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The broker SPI. Sends are asynchronous: the relay hands a whole batch over, then waits once for
 * all the futures. A future completes normally only when the broker has acknowledged the message
 * durably (Kafka acks=all, RabbitMQ publisher confirm); the relay deletes the event only then.
 *
 * <p>Implementations must be thread-safe and must not block in {@link #send} beyond handing the
 * message to the client library.
 */
public interface OutboxTransport {

  /** Sends an event to its destination. The message carries {@link OutboxEvent#id()}. */
  CompletableFuture<?> send(OutboxEvent event);

  /**
   * Asks the transport to send what it buffered now: the relay calls it after handing a batch over.
   * Must not block. By default it does nothing.
   */
  default void flush() {}

  /**
   * Sends an event that will not be tried again to the dead-letter destination, with headers that
   * name the original destination, the error and the attempts.
   */
  CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter);

  /**
   * Whether a failure may succeed if tried again. Non-retryable failures (serialization, record too
   * large, authorization, invalid destination) are dead-lettered at once.
   */
  boolean isRetryable(Throwable failure);

  /**
   * Whether a failure means the broker as a whole cannot be reached (no connection at all), as
   * opposed to this event failing. The relay does not count such failures as delivery attempts: it
   * keeps the events, backs off and reports itself unhealthy until the broker is back, so an
   * outage, however long, never dead-letters anything. The relay's own timeouts are asked about
   * too, as {@link PublishTimeoutException}s that say when the event was sent. By default no
   * failure is.
   */
  default boolean isBrokerUnavailable(Throwable failure) {
    return false;
  }

  /**
   * Whether a failure that {@link #isBrokerUnavailable} reports concerns the event's destination
   * only, while other destinations take events (Kafka: no write permission on that one topic). The
   * relay keeps such events as it keeps all unavailable ones, and also holds back for a while the
   * keys with events pending for that destination, so that the events of other destinations queued
   * behind them are read and published meanwhile. By default no failure is.
   */
  default boolean isDestinationUnavailable(Throwable failure) {
    return false;
  }

  /**
   * The longest a single {@link #send} may block in the client library before it returns (Kafka's
   * {@code max.block.ms} while metadata or buffer space is missing). The relay checks its publish
   * timeout against it. Zero by default: the send never blocks.
   */
  default Duration maxBlock() {
    return Duration.ZERO;
  }

  /**
   * The largest payload, in UTF-8 bytes, this transport can deliver; the writer rejects larger
   * payloads when the event is written, inside the business transaction, instead of the relay
   * dead-lettering them later. By default {@link OutboxDefaults#MAX_PAYLOAD_BYTES} (1 MiB, Kafka's
   * default request size); a transport that knows its broker's limit overrides it.
   */
  default int maxPayloadBytes() {
    return OutboxDefaults.MAX_PAYLOAD_BYTES;
  }

  /** The name of the dead-letter destination for an event, for logs and docs. */
  String deadLetterDestination(OutboxEvent event);
}
