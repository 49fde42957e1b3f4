package dev.outbox.relay;

import dev.outbox.concurrent.Signal;
import dev.outbox.relay.BatchPublisher.Outcome;
import dev.outbox.relay.SlotScheduler.Grant;
import dev.outbox.store.Slots;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

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

  /** This worker's failed batches since its last batch that did not fail (its thread only). */
  private int failuresInARow;

  /** Whether this worker's own last step failed, not the broker (its thread only). */
  private boolean failing;

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
        long due = readAgainWhatFellDue();
        if (due != 0) {
          wake.await(
              due < 0 ? Duration.ofNanos(Long.MAX_VALUE) : Duration.ofNanos(due + 1_000_000));
          readAgainWhatFellDue();
        }
        while (!stopping.isClosed()) {
          Outcome outcome;
          try {
            outcome = step();
            failuresInARow = 0;
          } catch (RuntimeException ex) {
            Duration pause = pauseAfter(ex);
            if (!pause.isZero()) {
              stopping.await(pause);
            }
            continue;
          }
          if (outcome == null) {
            break; // no free slot may hold events
          }
          if (outcome.more()) {
            onBacklog.run();
          }
          readAgainWhatFellDue();
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Marks every slot to be read again when a held-back key fell due or a closure ended since the
   * last look (their slots are not known here); returns {@link HeldKeys#nanosUntilNextDue}.
   */
  private long readAgainWhatFellDue() {
    long due = heldKeys.nanosUntilNextDue();
    if (due == 0) {
      scheduler.markDirty(Slots.ALL);
    }
    return due;
  }

  /**
   * Reports a failed batch to the health and returns how long to pause: 100 ms after the first of
   * this worker's failures in a row, doubling up to the longest pause. A batch that ended with its
   * events held back (a destination refusing them on its own) reports the broker failing but does
   * not pause, and does not count towards the next pause: a destination closed for hours must not
   * make the first pause after a later outage the longest one.
   */
  Duration pauseAfter(RuntimeException failure) {
    if (failure instanceof BrokerUnavailableException unavailable) {
      // The worker itself works; the broker is what fails, for every worker alike.
      failing = false;
      health.ok(component);
      health.failed(RelayHealth.BROKER, unavailable);
      if (unavailable.heldBack()) {
        return Duration.ZERO;
      }
    } else {
      failing = true;
      health.failed(component, failure);
    }
    return errorBackoff(++failuresInARow, maxErrorBackoff);
  }

  /**
   * One {@link #cycle()} and its report to the health: null when no free slot may hold events. A
   * worker whose last batch failed and that then finds nothing to do (another worker may have done
   * the slots its failed batch left) reads its share once more, so that its health says whether its
   * work goes through now. Before, it stayed reported as failing until it next had a batch, which
   * on an idle instance could be never.
   */
  @Nullable Outcome step() {
    Outcome outcome = cycle();
    if (outcome == null && failing) {
      scheduler.markDirty(Slots.ALL);
      outcome = cycle();
    }
    failing = false;
    health.ok(component);
    if (outcome != null && outcome.attempted() > 0 && !heldKeys.anyClosed()) {
      // A batch went through and no destination is closed: the broker is there.
      health.ok(RelayHealth.BROKER);
    }
    return outcome;
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
