package dev.outbox.spring;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresWakeups;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the relay once the application context is ready and stops it gracefully on shutdown,
 * before the data source and the broker clients are closed. If the schema could not be checked at
 * startup (database down), the relay thread first waits for it.
 */
final class OutboxRelayLifecycle implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelayLifecycle.class);

  private final @Nullable OutboxRelay relay;
  private final @Nullable PostgresWakeups wakeups;
  private final OutboxSchemaInitializer schema;
  private final Duration shutdownTimeout;
  private final NamedThreads threads = new NamedThreads("outbox");
  private volatile boolean running;
  private Signal stopping = new Signal();
  private @Nullable Thread waiter;

  OutboxRelayLifecycle(
      @Nullable OutboxRelay relay,
      @Nullable PostgresWakeups wakeups,
      OutboxSchemaInitializer schema,
      Duration shutdownTimeout) {
    this.relay = relay;
    this.wakeups = wakeups;
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
        wakeups.start(relay != null);
      }
      if (relay == null) {
        log.info(
            "No outbox relay in this instance (no transport bean, or outbox.relay.enabled=false):"
                + " events are written but published by other instances only");
        return;
      }
      if (schema.isInitialized()) {
        relay.start();
        return;
      }
      Signal stopped = stopping;
      startup = threads.thread("relay-startup", () -> startWhenSchemaReady(stopped));
      waiter = startup;
    }
    startup.start();
  }

  private void startWhenSchemaReady(Signal stopped) {
    long pause = 500;
    try {
      while (!stopped.isClosed()) {
        try {
          schema.initialize();
          synchronized (this) {
            if (running && !stopped.isClosed()) {
              relay.start();
            }
          }
          return;
        } catch (RuntimeException ex) {
          log.warn("Outbox table not ready yet; retrying in {} ms: {}", pause, ex.getMessage());
          stopped.await(Duration.ofMillis(pause));
          pause = Math.min(pause * 2, 30_000);
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

  /** Stops early and starts late: after the web server is up, before clients are closed. */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 1024;
  }
}
