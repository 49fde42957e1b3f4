package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxRepository;
import dev.outbox.transport.Failures;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.actuate.endpoint.StatusAggregator;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * The outbox's health: counts, the age of the oldest pending event and the relay's state.
 *
 * <p>The oldest pending event being older than {@code outbox.health.max-pending-age}, or more dead
 * events than {@code outbox.health.max-dead}, is a <em>problem</em>: listed under {@code problems}
 * and reported with {@code outbox.health.problem-status}, {@code UP} by default, so one stuck key
 * does not fail the application's health or take it out of service unless the application asks for
 * that. The relay failing (database or broker unreachable) is reported with {@code
 * outbox.health.relay-failure-status}, {@code DOWN} by default, like Boot's own RabbitMQ and
 * database health indicators. A table that cannot be read is DOWN. With several, the most severe
 * status wins (Boot's default order).
 *
 * <p>What it reads from the table (bounded counts and 64 index probes) is reused for {@code
 * outbox.health.cache-time-to-live}, however often the indicator is called; the relay's state is
 * always current. {@code checkedAt} says when the table was read.
 */
final class OutboxHealthIndicator extends AbstractHealthIndicator {

  /** Counts shown exactly up to this; beyond it the detail says {@code "10000+"}. */
  static final long COUNT_LIMIT = 10_000;

  private final OutboxRepository repository;
  private final @Nullable OutboxRelay relay;
  private final Duration maxPendingAge;
  private final @Nullable Long maxDead;
  private final Status problemStatus;
  private final Status relayFailureStatus;
  private final long cacheNanos;
  private final Clock clock;
  private final long countLimit;
  private @Nullable Reading reading;

  OutboxHealthIndicator(
      OutboxRepository repository,
      @Nullable OutboxRelay relay,
      OutboxProperties.Health properties,
      Clock clock) {
    super("Outbox health check failed");
    this.repository = repository;
    this.relay = relay;
    this.maxPendingAge =
        requirePositive("outbox.health.max-pending-age", properties.getMaxPendingAge());
    this.maxDead = properties.getMaxDead();
    if (maxDead != null && maxDead < 0) {
      throw new IllegalArgumentException(
          "outbox.health.max-dead must be 0 or more (or unset for no limit), was " + maxDead);
    }
    this.problemStatus = status("outbox.health.problem-status", properties.getProblemStatus());
    this.relayFailureStatus =
        status("outbox.health.relay-failure-status", properties.getRelayFailureStatus());
    Duration ttl = properties.getCacheTimeToLive();
    if (ttl == null || ttl.isNegative()) {
      throw new IllegalArgumentException(
          "outbox.health.cache-time-to-live must be 0 (no cache) or more, was " + ttl);
    }
    this.cacheNanos = ttl.toNanos();
    this.clock = clock;
    this.countLimit = maxDead == null ? COUNT_LIMIT : Math.max(COUNT_LIMIT, maxDead + 1);
  }

  /**
   * The statuses a threshold or a failing relay may report. Not {@code UNKNOWN}: Spring Boot ranks
   * it below {@code UP}, so the indicator, which is {@code UP} besides, would report {@code UP}.
   */
  private static final List<Status> STATUSES =
      List.of(Status.UP, Status.DOWN, Status.OUT_OF_SERVICE);

  private static Status status(String name, @Nullable String code) {
    String normalized = code == null ? "" : code.trim().toUpperCase(Locale.ROOT);
    for (Status status : STATUSES) {
      if (status.getCode().equals(normalized)) {
        return status;
      }
    }
    throw new IllegalArgumentException(
        name
            + " must be one of UP, DOWN or OUT_OF_SERVICE, was '"
            + code
            + "'"
            + (Status.UNKNOWN.getCode().equals(normalized)
                ? " (UNKNOWN ranks below UP in Spring Boot's health order, so it would read UP)"
                : ""));
  }

  private static Duration requirePositive(String name, @Nullable Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
    return value;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    Reading current = read();
    if (current.failure != null) {
      // With its causes: "Could not read outbox statistics" alone does not say the database is down
      builder.down().withDetail("error", Failures.describe(current.failure));
      return;
    }
    OutboxRepository.Stats stats = current.stats;
    List<String> problems = new ArrayList<>();
    Set<Status> statuses = new HashSet<>();
    statuses.add(Status.UP);
    builder
        .up()
        .withDetail("pending", count(stats.pending()))
        .withDetail("dead", count(stats.dead()));
    stats
        .oldestPending()
        .ifPresent(
            oldest -> {
              Duration age = Duration.between(oldest, clock.instant());
              builder.withDetail("oldestPendingAge", age.toString());
              if (age.compareTo(maxPendingAge) > 0) {
                problems.add("oldest pending event is older than " + maxPendingAge);
                statuses.add(problemStatus);
              }
            });
    if (maxDead != null && stats.dead() > maxDead) {
      problems.add("more than " + maxDead + " dead event(s)");
      statuses.add(problemStatus);
    }
    builder.withDetail("checkedAt", current.readAt.toString());
    if (relay == null) {
      builder.withDetail("relay", "none (no transport or outbox.relay.enabled=false)");
    } else {
      builder.withDetail("relay", relay.isRunning() ? "running" : "stopped");
      builder.withDetail("slots", relay.ownedSlots());
      String member = relay.member();
      if (member != null) {
        builder.withDetail("member", member);
      }
      if (!relay.isHealthy()) {
        builder.withDetail("relayError", String.valueOf(relay.lastFailure()));
        problems.add("relay failing (see relayError)");
        statuses.add(relayFailureStatus);
      }
    }
    if (!problems.isEmpty()) {
      builder.withDetail("problems", problems);
    }
    builder.status(StatusAggregator.getDefault().getAggregateStatus(statuses));
  }

  private Object count(long count) {
    return count >= countLimit ? countLimit + "+" : count;
  }

  /** The cached reading of the table, or a new one once it is older than the time to live. */
  private synchronized Reading read() {
    long now = System.nanoTime();
    Reading current = reading;
    if (current != null && now - current.readAtNanos < cacheNanos) {
      return current;
    }
    try {
      current = new Reading(repository.statsUpTo(countLimit), null, now, clock.instant());
    } catch (RuntimeException ex) {
      current = new Reading(EMPTY, ex, now, clock.instant());
    }
    reading = current;
    return current;
  }

  private static final OutboxRepository.Stats EMPTY =
      new OutboxRepository.Stats(0, 0, java.util.Optional.empty());

  /** One reading of the table: its stats, or why it could not be read. */
  private record Reading(
      OutboxRepository.Stats stats,
      @Nullable RuntimeException failure,
      long readAtNanos,
      Instant readAt) {}
}
