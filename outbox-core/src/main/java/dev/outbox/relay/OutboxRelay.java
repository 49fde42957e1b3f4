package dev.outbox.relay;

import dev.outbox.OutboxException;
import dev.outbox.store.Claim;
import dev.outbox.store.OutboxRepository;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay: background workers that claim committed events in batches, publish them through the
 * transport and records the outcome. It sleeps until {@link #wakeUp()} is called (after a
 * transaction that wrote events commits) or the poll interval passes. If the database or the broker
 * is down, it keeps the events, backs off and resumes.
 *
 * <p>Build one with {@link #builder()}.
 */
public final class OutboxRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

  /** How long a non-polling worker sleeps when nothing wakes it. */
  private static final Duration IDLE_WORKER_WAIT = Duration.ofHours(1);

  private final OutboxRepository repository;
  private final BatchPublisher publisher;
  private final ExecutorService chainExecutor;
  private final int batchSize;
  private final Duration pollInterval;
  private final Duration maxErrorBackoff;
  private final RelayListener listener;
  private final Runnable onBacklog;
  private final String name;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition signal = lock.newCondition();
  private boolean wakeRequested;

  private volatile boolean running;
  private final int workers;
  private volatile List<Thread> threads = List.of();
  private volatile @Nullable Instant lastSuccess;
  private volatile @Nullable String lastFailure;
  private volatile boolean healthy = true;

  private OutboxRelay(Builder builder) {
    this.repository = builder.repository;
    this.batchSize = builder.batchSize;
    this.workers = builder.workers;
    this.pollInterval = builder.pollInterval;
    this.maxErrorBackoff = builder.maxErrorBackoff;
    this.listener = builder.listener;
    this.onBacklog = builder.onBacklog;
    this.name = builder.name;
    this.chainExecutor =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread t = new Thread(runnable, name + "-chain");
              t.setDaemon(true);
              return t;
            });
    this.publisher =
        new BatchPublisher(
            builder.transport,
            builder.retryPolicy,
            builder.publishTimeout,
            builder.listener,
            builder.clock,
            chainExecutor);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts the worker threads. Calling it twice has no effect. */
  public synchronized void start() {
    if (running) {
      return;
    }
    running = true;
    List<Thread> started = new ArrayList<>(workers);
    for (int i = 1; i <= workers; i++) {
      boolean polls = i == 1;
      Thread t = new Thread(() -> loop(polls), workers == 1 ? name : name + "-" + i);
      t.setDaemon(true);
      started.add(t);
    }
    threads = List.copyOf(started);
    started.forEach(Thread::start);
    log.info(
        "Outbox relay '{}' started ({} worker(s), batch size {}, poll interval {} ms)",
        name,
        workers,
        batchSize,
        pollInterval.toMillis());
  }

  /**
   * Stops the thread, letting the batch in flight finish for up to {@code timeout}. Events not
   * completed stay in the table and are published after the next start.
   */
  public synchronized void stop(Duration timeout) {
    if (!running) {
      return;
    }
    running = false;
    lock.lock();
    try {
      signal.signalAll();
    } finally {
      lock.unlock();
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      for (Thread t : threads) {
        t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        if (t.isAlive()) {
          log.warn("Outbox relay '{}' did not stop within {}; interrupting", name, timeout);
          t.interrupt();
          t.join(1000);
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    threads = List.of();
    log.info("Outbox relay '{}' stopped", name);
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(10));
    chainExecutor.shutdownNow();
  }

  public boolean isRunning() {
    return running;
  }

  /** Whether the last cycle reached the database and the broker without a cycle failure. */
  public boolean isHealthy() {
    return healthy;
  }

  /** The last cycle failure, or null when the last cycle succeeded. */
  public @Nullable String lastFailure() {
    return lastFailure;
  }

  /** When a cycle last completed without failing, or null if none has. */
  public @Nullable Instant lastSuccess() {
    return lastSuccess;
  }

  /** Asks the relay to look for events now instead of at the next poll. Cheap; never blocks. */
  public void wakeUp() {
    lock.lock();
    try {
      wakeRequested = true;
      signal.signal();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Claims and publishes one batch on the calling thread. Returns the number of events claimed.
   * Used by the loop; callable directly in tests or from a scheduler of the application's own.
   */
  public int relayOnce() {
    try (Claim claim = repository.claim(batchSize)) {
      return publisher.publish(claim);
    }
  }

  /**
   * One worker's loop. Only the first worker polls when idle; the others sleep until woken (after a
   * local commit, a notification from another instance, or a full batch), so an idle instance costs
   * one cheap query per poll interval.
   */
  private void loop(boolean polls) {
    int consecutiveFailures = 0;
    while (running) {
      try {
        int claimed = relayOnce();
        if (consecutiveFailures > 0) {
          log.info(
              "Outbox relay '{}' recovered after {} failed cycle(s)", name, consecutiveFailures);
        }
        consecutiveFailures = 0;
        healthy = true;
        lastFailure = null;
        lastSuccess = Instant.now();
        if (claimed == 0) {
          awaitWakeUp(polls ? pollInterval : IDLE_WORKER_WAIT);
        } else if (claimed >= batchSize) {
          // a backlog: let another worker claim the next batch while this one publishes
          wakeUp();
          onBacklog.run();
        }
      } catch (Throwable failure) {
        if (failure instanceof VirtualMachineError error) {
          throw error;
        }
        if (!running) {
          break;
        }
        consecutiveFailures++;
        healthy = false;
        lastFailure = Failures.describe(failure);
        try {
          listener.cycleFailed(failure);
        } catch (RuntimeException ex) {
          log.warn("A relay listener failed; ignoring it", ex);
        }
        Duration pause = errorBackoff(consecutiveFailures);
        log.warn(
            "Outbox relay '{}' cycle failed ({} in a row); events stay in the table, next try in {}"
                + " ms: {}",
            name,
            consecutiveFailures,
            pause.toMillis(),
            lastFailure);
        sleep(pause);
      }
    }
  }

  private Duration errorBackoff(int failures) {
    long millis = 100L << Math.min(failures - 1, 20);
    return Duration.ofMillis(Math.min(millis, maxErrorBackoff.toMillis()));
  }

  private void awaitWakeUp(Duration timeout) {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (!wakeRequested && running && nanos > 0) {
        nanos = signal.awaitNanos(nanos);
      }
      wakeRequested = false;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      running = false;
    } finally {
      lock.unlock();
    }
  }

  private void sleep(Duration pause) {
    lock.lock();
    try {
      long nanos = pause.toNanos();
      while (running && nanos > 0) {
        nanos = signal.awaitNanos(nanos);
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      running = false;
    } finally {
      lock.unlock();
    }
  }

  /** Builds an {@link OutboxRelay}; {@link #build()} validates the settings. */
  public static final class Builder {
    private @Nullable OutboxRepository repository;
    private @Nullable OutboxTransport transport;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private int batchSize = OutboxDefaults.BATCH_SIZE;
    private int workers = OutboxDefaults.WORKERS;
    private Duration pollInterval = OutboxDefaults.POLL_INTERVAL;
    private Duration publishTimeout = OutboxDefaults.PUBLISH_TIMEOUT;
    private Duration maxErrorBackoff = OutboxDefaults.MAX_ERROR_BACKOFF;
    private RelayListener listener = RelayListener.none();
    private Clock clock = Clock.systemUTC();
    private String name = "outbox-relay";
    private Runnable onBacklog = () -> {};

    private Builder() {}

    public Builder repository(OutboxRepository repository) {
      this.repository = repository;
      return this;
    }

    public Builder transport(OutboxTransport transport) {
      this.transport = transport;
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = retryPolicy;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Threads that claim and publish concurrently. Under a backlog one claims the next batch while
     * another waits for the broker; keys stay in order because a claim locks its keys.
     */
    public Builder workers(int workers) {
      this.workers = workers;
      return this;
    }

    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
      return this;
    }

    public Builder publishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
      return this;
    }

    public Builder maxErrorBackoff(Duration maxErrorBackoff) {
      this.maxErrorBackoff = maxErrorBackoff;
      return this;
    }

    public Builder listener(RelayListener listener) {
      this.listener = listener;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Run after each full batch, when more events are likely waiting: wakes the relays of other
     * instances to share the backlog. Must be quick and must not throw.
     */
    public Builder onBacklog(Runnable onBacklog) {
      this.onBacklog = onBacklog;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Validates the settings and builds the relay (not yet started).
     *
     * @throws OutboxException naming the first invalid setting
     */
    public OutboxRelay build() {
      require(repository != null, "a repository is required");
      require(transport != null, "a transport is required");
      require(
          batchSize >= 1 && batchSize <= 10_000, "batchSize must be 1..10000, was " + batchSize);
      require(workers >= 1 && workers <= 16, "workers must be 1..16, was " + workers);
      require(positive(pollInterval), "pollInterval must be positive, was " + pollInterval);
      require(positive(publishTimeout), "publishTimeout must be positive, was " + publishTimeout);
      require(positive(maxErrorBackoff), "maxErrorBackoff must be positive");
      Objects.requireNonNull(retryPolicy, "retryPolicy");
      Objects.requireNonNull(listener, "listener");
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(onBacklog, "onBacklog");
      require(name != null && !name.isBlank(), "name must not be blank");
      return new OutboxRelay(this);
    }

    private static boolean positive(@Nullable Duration duration) {
      return duration != null && !duration.isNegative() && !duration.isZero();
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new OutboxException("Invalid outbox relay setting: " + message);
      }
    }
  }
}
