package dev.outbox.spring;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.PostgresWakeups;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the relay once the application context is ready and stops it gracefully on shutdown,
 * before the data source and the broker clients are closed. If the schema could not be checked at
 * startup (database down), the relay thread first waits for it. Also the {@link OutboxRelayControl}
 * of the application: a paused relay stays stopped while the context runs.
 */
final class OutboxRelayLifecycle implements SmartLifecycle, OutboxRelayControl {

  /** How often {@link #drain} looks whether events are still due. */
  private static final long DRAIN_CHECK_NANOS = Duration.ofMillis(20).toNanos();

  private static final Logger log = LoggerFactory.getLogger(OutboxRelayLifecycle.class);

  private final @Nullable OutboxRelay relay;
  private final @Nullable PostgresWakeups wakeups;
  private final OutboxRepository repository;
  private final OutboxSchemaInitializer schema;
  private final Duration shutdownTimeout;
  private final NamedThreads threads = new NamedThreads("outbox");
  private volatile boolean running;
  private volatile boolean paused;
  private Signal stopping = new Signal();
  private @Nullable Thread waiter;

  OutboxRelayLifecycle(
      @Nullable OutboxRelay relay,
      @Nullable PostgresWakeups wakeups,
      OutboxRepository repository,
      OutboxSchemaInitializer schema,
      Duration shutdownTimeout) {
    this.relay = relay;
    this.wakeups = wakeups;
    this.repository = repository;
    this.schema = schema;
    this.shutdownTimeout = shutdownTimeout;
  }

  @Override
  public void start() {
    Thread startup;
    synchronized (this) {
      if (running) {
        return;
      }
      running = true;
      stopping = new Signal();
      if (wakeups != null) {
        // Listens once the database has answered (the schema check): see startWhenSchemaReady
        wakeups.start(relay != null && schema.isInitialized());
      }
      if (relay == null) {
        log.info(
            "No outbox relay in this instance (no transport bean, or outbox.relay.enabled=false):"
                + " events are written but published by other instances only");
        return;
      }
      if (paused) {
        log.info("Outbox relay stays paused (OutboxRelayControl.resume() starts it)");
        return;
      }
      startup = startRelay();
    }
    if (startup != null) {
      startup.start();
    }
  }

  /** Starts the relay now, or returns a thread to start that waits for the schema first. */
  private @Nullable Thread startRelay() {
    if (schema.isInitialized()) {
      if (wakeups != null) {
        // Not listening yet if the schema check succeeded while the relay was paused
        wakeups.start(true);
      }
      relay.start();
      return null;
    }
    if (waiter != null && waiter.isAlive()) {
      return null;
    }
    Signal stopped = stopping;
    OutboxRelay started = relay;
    Thread startup = threads.thread("relay-startup", () -> startWhenSchemaReady(started, stopped));
    waiter = startup;
    return startup;
  }

  @Override
  public void pause() {
    synchronized (this) {
      if (relay == null) {
        throw new IllegalStateException(noRelay());
      }
      if (paused) {
        return;
      }
      paused = true;
      relay.stop(shutdownTimeout);
    }
    log.info("Outbox relay paused: this instance publishes nothing until it is resumed");
  }

  @Override
  public void resume() {
    Thread startup;
    synchronized (this) {
      if (!paused) {
        return;
      }
      paused = false;
      if (!running || relay == null) {
        return;
      }
      startup = startRelay();
    }
    if (startup != null) {
      startup.start();
    }
    log.info("Outbox relay resumed");
  }

  @Override
  public boolean isPaused() {
    return paused;
  }

  @Override
  public boolean drain(Duration timeout) throws InterruptedException {
    OutboxRelay current = relay;
    if (current == null) {
      throw new IllegalStateException(noRelay());
    }
    if (paused || !running) {
      throw new IllegalStateException(
          "The outbox relay of this instance is "
              + (paused ? "paused" : "not running")
              + "; drain() needs it running");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      current.wakeUp();
      long checkStarted = System.nanoTime();
      if (!repository.hasDueEvents()) {
        return true;
      }
      long checkTook = System.nanoTime() - checkStarted;
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      // The check reads the whole table while retries wait: on a large backlog it spends at most a
      // tenth of the time looking.
      LockSupport.parkNanos(Math.min(left, Math.max(DRAIN_CHECK_NANOS, 10 * checkTook)));
      if (Thread.interrupted()) {
        throw new InterruptedException("Interrupted while draining the outbox");
      }
    }
  }

  private static String noRelay() {
    return "This instance has no outbox relay (no OutboxTransport bean, outbox.relay.enabled=false"
        + " or outbox.cdc.enabled=true)";
  }

  /**
   * Waits for the outbox table (created by a migration that may run after this instance started):
   * 500 ms between tries, doubling up to the relay's {@code maxErrorBackoff}. Each try waits for a
   * connection at most the database timeout, so {@link #stop()} is never held up longer by a
   * database that accepts connections and answers nothing. The wake-ups start listening only then
   * too: their listening thread would wait for its connection for as long as the driver does (with
   * pgjdbc's defaults, for ever, when the pool's first connection is what it waits for), and stop
   * waits for that thread.
   */
  private void startWhenSchemaReady(OutboxRelay toStart, Signal stopped) {
    long maxPause = toStart.timing().maxErrorBackoff().toMillis();
    long pause = Math.min(500, maxPause);
    try {
      while (!stopped.isClosed()) {
        try {
          schema.initialize();
          synchronized (this) {
            if (running && !paused && !stopped.isClosed()) {
              if (wakeups != null) {
                wakeups.start(true);
              }
              toStart.start();
            }
          }
          return;
        } catch (RuntimeException ex) {
          if (stopped.isClosed()) {
            return; // stop() came while it waited for the database
          }
          log.warn("Outbox table not ready yet; retrying in {} ms: {}", pause, ex.getMessage());
          stopped.await(Duration.ofMillis(pause));
          pause = Math.min(pause * 2, maxPause);
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void stop() {
    Thread startup;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      stopping.close();
      startup = waiter;
      waiter = null;
    }
    if (startup != null) {
      NamedThreads.stop(startup, shutdownTimeout);
    }
    synchronized (this) {
      if (relay != null) {
        relay.stop(shutdownTimeout);
      }
      if (wakeups != null) {
        wakeups.stop();
      }
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /**
   * Stops after the web server, before the broker clients. Spring Boot's web server waits for the
   * requests in flight (graceful shutdown, phase {@code DEFAULT_PHASE - 1024}) and then stops
   * ({@code DEFAULT_PHASE - 2048}); the relay stops after both, so events committed by those
   * requests find it running and woken. Message listener containers stop before it; Kafka's
   * producer factory and RabbitMQ's connection factory stop after it ({@code Integer.MIN_VALUE}).
   * It starts in the reverse order: before the web server takes requests.
   */
  @Override
  public int getPhase() {
    return PHASE;
  }

  /** See {@link #getPhase()}: below Spring Boot's web server phases. */
  static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;
}
