package dev.outbox.inbox.spring;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.inbox.PostgresInboxStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Deletes inbox rows older than the retention, every cleanup interval, in batches of one short
 * transaction each, until a batch comes back short. Several instances may clean at once: each skips
 * the rows another is deleting.
 */
public final class InboxCleaner implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(InboxCleaner.class);

  private final PostgresInboxStore store;
  private final Duration retention;
  private final Duration interval;
  private final int batchSize;
  private final Clock clock;
  private @Nullable ScheduledExecutorService executor;

  public InboxCleaner(
      PostgresInboxStore store, Duration retention, Duration interval, int batchSize, Clock clock) {
    this.store = store;
    this.retention = retention;
    this.interval = interval;
    this.batchSize = batchSize;
    this.clock = clock;
  }

  /**
   * Deletes every row handled longer than the retention ago, batch by batch.
   *
   * @return the number of rows deleted
   */
  public long cleanUp() {
    Instant cutoff = clock.instant().minus(retention);
    long total = 0;
    int deleted;
    do {
      deleted = store.deleteHandledBefore(cutoff, batchSize);
      total += deleted;
    } while (deleted == batchSize && !Thread.currentThread().isInterrupted());
    if (total > 0) {
      log.info("Deleted {} inbox row(s) of {} handled before {}", total, store.table(), cutoff);
    }
    return total;
  }

  private void cleanUpQuietly() {
    try {
      cleanUp();
    } catch (RuntimeException ex) {
      log.warn(
          "Could not delete expired rows of the inbox table {}: {}",
          store.table(),
          ex.getMessage());
    }
  }

  @Override
  public synchronized void start() {
    if (executor != null) {
      return;
    }
    ScheduledExecutorService started =
        Executors.newSingleThreadScheduledExecutor(new NamedThreads("outbox-inbox-cleaner"));
    long millis = interval.toMillis();
    started.scheduleWithFixedDelay(this::cleanUpQuietly, millis, millis, TimeUnit.MILLISECONDS);
    executor = started;
  }

  @Override
  public synchronized void stop() {
    ScheduledExecutorService running = executor;
    if (running == null) {
      return;
    }
    executor = null;
    running.shutdownNow();
    try {
      running.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return executor != null;
  }
}
