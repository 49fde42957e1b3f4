package dev.outbox.spring;

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
  private volatile boolean running;
  private volatile Thread waiter;

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
    running = true;
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
    Thread thread = new Thread(this::startWhenSchemaReady, "outbox-relay-startup");
    thread.setDaemon(true);
    waiter = thread;
    thread.start();
  }

  private void startWhenSchemaReady() {
    long pause = 500;
    while (running) {
      try {
        schema.initialize();
        if (running) {
          relay.start();
        }
        return;
      } catch (RuntimeException ex) {
        log.warn("Outbox table not ready yet; retrying in {} ms: {}", pause, ex.getMessage());
        try {
          Thread.sleep(pause);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
        pause = Math.min(pause * 2, 30_000);
      }
    }
  }

  @Override
  public void stop() {
    running = false;
    Thread thread = waiter;
    if (thread != null) {
      thread.interrupt();
    }
    if (relay != null) {
      relay.stop(shutdownTimeout);
    }
    if (wakeups != null) {
      wakeups.close();
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
