package dev.outbox.spring;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.store.OutboxRepository;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Deletes dead events once they have been dead for {@code outbox.dead.retention}: every {@code
 * outbox.dead.purge-interval} (first one minute after start, or sooner if the interval is shorter),
 * in statements of {@code outbox.dead.purge-batch-size} rows. Every instance schedules it; the
 * store lets one instance at a time purge a table, the others skip that round.
 */
final class OutboxDeadEventRetention implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(OutboxDeadEventRetention.class);

  /** Shorter retentions are refused: likely a unit mistake that would delete fresh dead events. */
  static final Duration MIN_RETENTION = Duration.ofHours(1);

  private static final Duration MAX_FIRST_DELAY = Duration.ofMinutes(1);

  private final OutboxRepository repository;
  private final Duration retention;
  private final Duration interval;
  private final int batchSize;
  private @Nullable ScheduledExecutorService executor;

  OutboxDeadEventRetention(OutboxRepository repository, OutboxProperties.Dead properties) {
    this.repository = repository;
    this.retention = properties.getRetention();
    if (retention == null || retention.compareTo(MIN_RETENTION) < 0) {
      throw new IllegalArgumentException(
          "outbox.dead.retention must be at least "
              + MIN_RETENTION
              + " (or unset to keep dead events until replayed or discarded), was "
              + retention);
    }
    this.interval = properties.getPurgeInterval();
    if (interval == null || interval.toMillis() < 1) {
      throw new IllegalArgumentException(
          "outbox.dead.purge-interval must be at least 1ms, was " + interval);
    }
    this.batchSize = properties.getPurgeBatchSize();
    if (batchSize < 1 || batchSize > 100_000) {
      throw new IllegalArgumentException(
          "outbox.dead.purge-batch-size must be between 1 and 100000, was " + batchSize);
    }
  }

  /**
   * One round: deletes what is past the retention and logs how many. Returns how many it deleted,
   * or empty if another instance was purging.
   */
  OptionalLong purge() {
    try {
      OptionalLong deleted = repository.purgeDead(retention, batchSize);
      if (deleted.isEmpty()) {
        log.debug("Another instance is deleting dead events past their retention; skipped");
      } else if (deleted.getAsLong() > 0) {
        log.info(
            "Deleted {} dead event(s) dead-lettered more than {} ago (outbox.dead.retention)",
            deleted.getAsLong(),
            retention);
      }
      return deleted;
    } catch (RuntimeException ex) {
      log.warn(
          "Could not delete dead events past their retention; trying again in {}: {}",
          interval,
          ex.getMessage());
      return OptionalLong.empty();
    }
  }

  @Override
  public synchronized void start() {
    if (executor != null) {
      return;
    }
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(new NamedThreads("outbox-dead-retention"));
    long first = Math.min(interval.toMillis(), MAX_FIRST_DELAY.toMillis());
    scheduler.scheduleWithFixedDelay(
        this::purge, first, interval.toMillis(), TimeUnit.MILLISECONDS);
    executor = scheduler;
    log.info(
        "Dead outbox events are deleted {} after they were dead-lettered (checked every {})",
        retention,
        interval);
  }

  @Override
  public synchronized void stop() {
    ScheduledExecutorService scheduler = executor;
    executor = null;
    if (scheduler == null) {
      return;
    }
    scheduler.shutdownNow();
    try {
      if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("Dead event retention did not stop within 10 s");
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return executor != null;
  }
}
