package dev.outbox.relay;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A wall clock and a monotonic clock that move only when a test says so, together: {@link
 * #advance(Duration)} moves both by the same amount. Thread-safe.
 *
 * <p>The monotonic clock starts five seconds below {@link Long#MAX_VALUE}, so it overflows in any
 * test that lets more than five seconds pass: like {@link System#nanoTime()}, whose origin is
 * arbitrary, its values may only be compared by subtraction, and such tests check that the engine
 * does so.
 */
final class SettableClock extends Clock {

  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  static final long NANO_START = Long.MAX_VALUE - Duration.ofSeconds(5).toNanos();

  private final AtomicLong elapsedNanos = new AtomicLong();

  /** Moves both clocks forward. */
  void advance(Duration duration) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("clocks do not go back: " + duration);
    }
    elapsedNanos.addAndGet(duration.toNanos());
  }

  /** The monotonic clock, for {@code nanoTime} parameters. */
  long nanoTime() {
    return NANO_START + elapsedNanos.get();
  }

  LongSupplier nanos() {
    return this::nanoTime;
  }

  @Override
  public Instant instant() {
    return START.plusNanos(elapsedNanos.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("tests use UTC");
  }
}
