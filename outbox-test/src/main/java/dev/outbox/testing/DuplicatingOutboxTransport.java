package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.Failures;
import dev.outbox.transport.ForwardingOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers every event more than once, with the same id, through the transport it wraps: what a
 * consumer sees after a relay crash between the broker's acknowledgement and the row's deletion.
 * Use it in an integration test against a real broker to prove a consumer has no second effect.
 *
 * <p>With no delay the copies are sent one after another at once, and the relay is told the event
 * is published when all copies are acknowledged. With a delay the first copy is sent at once and
 * acknowledged to the relay as usual (so the row is deleted); the further copies follow after the
 * delay, as a redelivery would, and a failure to send one is logged. Dead letters are sent once.
 */
public class DuplicatingOutboxTransport extends ForwardingOutboxTransport {

  /** The most copies of one event this transport sends. */
  public static final int MAX_COPIES = 10;

  private static final Logger log = LoggerFactory.getLogger(DuplicatingOutboxTransport.class);

  private final int copies;
  private final Duration delay;
  private final Executor later;

  /**
   * @param delegate the transport that sends each copy
   * @param copies how many times each event is sent, 2 to {@value #MAX_COPIES}
   * @param delay how long after the first copy the others follow; zero sends them at once
   */
  public DuplicatingOutboxTransport(OutboxTransport delegate, int copies, Duration delay) {
    this(
        delegate,
        copies,
        delay,
        CompletableFuture.delayedExecutor(
            Objects.requireNonNull(delay, "delay").isNegative() ? 0 : delay.toNanos(),
            TimeUnit.NANOSECONDS));
  }

  /** As above; {@code later} runs the sends of the delayed copies. */
  DuplicatingOutboxTransport(OutboxTransport delegate, int copies, Duration delay, Executor later) {
    super(delegate);
    this.later = Objects.requireNonNull(later, "later");
    Objects.requireNonNull(delay, "delay");
    if (copies < 2 || copies > MAX_COPIES) {
      throw new IllegalArgumentException(
          "outbox.test.duplicate-copies must be between 2 and "
              + MAX_COPIES
              + " to duplicate deliveries, was "
              + copies);
    }
    if (delay.isNegative()) {
      throw new IllegalArgumentException(
          "outbox.test.duplicate-delay must not be negative, was " + delay);
    }
    this.copies = copies;
    this.delay = delay;
  }

  /** How many times each event is sent. */
  public int copies() {
    return copies;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    if (!delay.isZero()) {
      CompletableFuture<?> first = delegate().send(event);
      later.execute(() -> sendLateCopies(event));
      return first;
    }
    CompletableFuture<?>[] sends = new CompletableFuture<?>[copies];
    for (int i = 0; i < copies; i++) {
      sends[i] = delegate().send(event);
    }
    return CompletableFuture.allOf(sends);
  }

  private void sendLateCopies(OutboxEvent event) {
    for (int i = 1; i < copies; i++) {
      delegate()
          .send(event)
          .whenComplete(
              (ignored, failure) -> {
                if (failure != null) {
                  log.warn(
                      "Duplicate copy of outbox event {} to {} failed: {}",
                      event.id(),
                      event.destination(),
                      Failures.describe(failure));
                }
              });
    }
    delegate().flush();
  }
}
