package dev.outbox.relay;

import dev.outbox.concurrent.Signal;
import dev.outbox.relay.BatchPublisher.Outcome;
import dev.outbox.relay.SlotScheduler.Grant;
import dev.outbox.store.Slots;
import java.time.Duration;

/**
 * One relay worker: sleeps until woken (a local commit, a notification from another instance, the
 * lease keeper finding events, or a held-back key falling due), then publishes batches from its
 * share of the instance's slots until they have nothing more to send.
 */
final class RelayWorker implements Runnable {

  private final String component;
  private final Signal wake = new Signal();
  private final Signal stopping;
  private final SlotScheduler scheduler;
  private final BatchPublisher publisher;
  private final HeldKeys heldKeys;
  private final RelayHealth health;
  private final Duration maxErrorBackoff;
  private final Runnable onBacklog;

  RelayWorker(
      String component,
      Signal stopping,
      SlotScheduler scheduler,
      BatchPublisher publisher,
      HeldKeys heldKeys,
      RelayHealth health,
      Duration maxErrorBackoff,
      Runnable onBacklog) {
    this.component = component;
    this.stopping = stopping;
    this.scheduler = scheduler;
    this.publisher = publisher;
    this.heldKeys = heldKeys;
    this.health = health;
    this.maxErrorBackoff = maxErrorBackoff;
    this.onBacklog = onBacklog;
  }

  String component() {
    return component;
  }

  void wakeUp() {
    wake.signal();
  }

  void close() {
    wake.close();
  }

  @Override
  public void run() {
    try {
      while (!stopping.isClosed()) {
        long due = heldKeys.nanosUntilNextDue();
        boolean woken =
            wake.await(
                due < 0 ? Duration.ofNanos(Long.MAX_VALUE) : Duration.ofNanos(due + 1_000_000));
        if (!woken && due >= 0) {
          scheduler.markDirty(Slots.ALL); // a held-back key is due; its slot is not known here
        }
        int failures = 0;
        while (!stopping.isClosed()) {
          Outcome outcome;
          try {
            outcome = cycle();
            if (outcome != null) {
              health.ok(component);
              if (outcome.attempted() > 0 && !heldKeys.anyClosed()) {
                // A batch went through and no destination is closed: the broker is there.
                health.ok(RelayHealth.BROKER);
              }
            }
            failures = 0;
          } catch (BrokerUnavailableException ex) {
            // The worker itself works; the broker is what fails, for every worker alike.
            health.ok(component);
            failures = health.failed(RelayHealth.BROKER, ex);
            if (!ex.heldBack()) {
              stopping.await(errorBackoff(failures, maxErrorBackoff));
            }
            continue;
          } catch (RuntimeException ex) {
            failures = health.failed(component, ex);
            stopping.await(errorBackoff(failures, maxErrorBackoff));
            continue;
          }
          if (outcome == null) {
            break; // no free slot may hold events
          }
          if (outcome.more()) {
            onBacklog.run();
          }
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /** One batch on a share of the free slots that may hold events; null when there is none. */
  Outcome cycle() {
    Grant grant = scheduler.grab();
    if (grant.isEmpty()) {
      return null;
    }
    boolean again = true;
    try {
      Outcome outcome = publisher.publish(grant);
      again = outcome.more();
      return outcome;
    } finally {
      scheduler.done(grant, again);
    }
  }

  /** The pause after the given number of failures in a row: 100 ms, doubling up to {@code max}. */
  static Duration errorBackoff(int failures, Duration max) {
    long millis = 100L << Math.min(Math.max(failures, 1) - 1, 20);
    return Duration.ofMillis(Math.min(millis, max.toMillis()));
  }
}
