package dev.outbox.relay;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter, bounded by attempts and optionally by age. Immutable: start from
 * {@link #defaults()} and change with the {@code withX} methods.
 *
 * @param maxAttempts attempts before an event is dead-lettered, at least 1
 * @param initialBackoff pause after the first failure
 * @param multiplier growth per failure, at least 1
 * @param maxBackoff cap of the pause
 * @param jitter random spread as a fraction of the pause, 0 to 1
 * @param maxAge age after which a failing event is dead-lettered; zero means no limit
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    double multiplier,
    Duration maxBackoff,
    double jitter,
    Duration maxAge) {

  public RetryPolicy {
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(maxAge, "maxAge");
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
    }
    if (initialBackoff.isNegative() || maxBackoff.isNegative() || maxAge.isNegative()) {
      throw new IllegalArgumentException("backoffs and maxAge must not be negative");
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff ("
              + maxBackoff
              + ") is shorter than initialBackoff ("
              + initialBackoff
              + ")");
    }
    if (!(multiplier >= 1.0)) {
      throw new IllegalArgumentException("multiplier must be at least 1, was " + multiplier);
    }
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException("jitter must be between 0 and 1, was " + jitter);
    }
  }

  public static RetryPolicy defaults() {
    return new RetryPolicy(
        OutboxDefaults.MAX_ATTEMPTS,
        OutboxDefaults.INITIAL_BACKOFF,
        OutboxDefaults.BACKOFF_MULTIPLIER,
        OutboxDefaults.MAX_BACKOFF,
        OutboxDefaults.JITTER,
        OutboxDefaults.MAX_AGE);
  }

  public RetryPolicy withMaxAttempts(int maxAttempts) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  public RetryPolicy withInitialBackoff(Duration initialBackoff) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  public RetryPolicy withMultiplier(double multiplier) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  public RetryPolicy withMaxBackoff(Duration maxBackoff) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  public RetryPolicy withJitter(double jitter) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  public RetryPolicy withMaxAge(Duration maxAge) {
    return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
  }

  /** The pause before the next attempt, after {@code failedAttempts} failures (1 or more). */
  public Duration backoff(int failedAttempts) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
    double capped = Math.min(base, maxBackoff.toMillis());
    double spread = jitter == 0 ? 0 : ThreadLocalRandom.current().nextDouble(-jitter, jitter);
    long millis = Math.round(capped * (1 + spread));
    return Duration.ofMillis(Math.max(0, Math.min(millis, maxBackoff.toMillis())));
  }

  /**
   * Whether an event with {@code failedAttempts} failures, written at {@code createdAt}, is done.
   */
  public boolean isExhausted(int failedAttempts, Instant createdAt, Instant now) {
    if (failedAttempts >= maxAttempts) {
      return true;
    }
    return !maxAge.isZero() && Duration.between(createdAt, now).compareTo(maxAge) >= 0;
  }
}
