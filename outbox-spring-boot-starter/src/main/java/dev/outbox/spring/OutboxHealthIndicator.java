package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxRepository;
import java.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * DOWN when the oldest pending event is older than {@code outbox.health.max-pending-age}, when the
 * relay's last cycle failed (database or broker unreachable), or when the table cannot be read.
 */
final class OutboxHealthIndicator extends AbstractHealthIndicator {

  private final OutboxRepository repository;
  private final @Nullable OutboxRelay relay;
  private final Duration maxPendingAge;
  private final Clock clock;

  OutboxHealthIndicator(
      OutboxRepository repository,
      @Nullable OutboxRelay relay,
      Duration maxPendingAge,
      Clock clock) {
    super("Outbox health check failed");
    this.repository = repository;
    this.relay = relay;
    this.maxPendingAge = maxPendingAge;
    this.clock = clock;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    OutboxRepository.Stats stats = repository.stats();
    builder.up().withDetail("pending", stats.pending()).withDetail("dead", stats.dead());
    stats
        .oldestPending()
        .ifPresent(
            oldest -> {
              Duration age = Duration.between(oldest, clock.instant());
              builder.withDetail("oldestPendingAge", age.toString());
              if (age.compareTo(maxPendingAge) > 0) {
                builder
                    .down()
                    .withDetail("reason", "oldest pending event is older than " + maxPendingAge);
              }
            });
    if (relay == null) {
      builder.withDetail("relay", "none (no transport or outbox.relay.enabled=false)");
      return;
    }
    builder.withDetail("relay", relay.isRunning() ? "running" : "stopped");
    builder.withDetail("slots", relay.ownedSlots());
    if (!relay.isHealthy()) {
      builder.down().withDetail("relayError", String.valueOf(relay.lastFailure()));
    }
  }
}
