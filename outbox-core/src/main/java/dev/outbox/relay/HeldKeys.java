package dev.outbox.relay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Keys held back, until when (by the relay's monotonic clock): by a retry that is not yet due, or
 * because the broker did not take their oldest event now (the broker or that event's destination is
 * unavailable). For retries the table is the truth — a row's attempts and due time hold its key
 * back for any relay that reads it — this only lets the relay skip those keys' rows when it reads.
 * A key held for an unavailable destination is held by this relay alone, so that its next reads
 * find the keys of other destinations instead of the same events again.
 */
final class HeldKeys {

  private final Map<String, Long> until = new ConcurrentHashMap<>();
  private final Map<String, Unavailable> unavailable = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;

  HeldKeys(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  void hold(String key, long millis) {
    long end = nanoTime.getAsLong() + Math.max(0, millis) * 1_000_000;
    until.merge(key, end, Math::max);
  }

  /** The keys still held; forgets the others. */
  List<String> current() {
    long now = nanoTime.getAsLong();
    until.values().removeIf(end -> end - now <= 0);
    return new ArrayList<>(until.keySet());
  }

  /**
   * Holds back the keys whose oldest event was kept because the broker or its destination was
   * unavailable ({@code kept}: key to that event's destination): each for twice the longer of
   * {@code pause} (how long the worker now pauses) and the error backoff for as many times in a row
   * as the key was kept (200 ms, doubling up to twice {@code maxErrorBackoff}). Longer than the
   * worker's pause, so its next batch reads other keys.
   */
  void holdUnavailable(Map<String, String> kept, Duration pause, Duration maxErrorBackoff) {
    long now = nanoTime.getAsLong();
    kept.forEach(
        (key, destination) -> {
          Unavailable entry =
              unavailable.compute(
                  key,
                  (k, previous) -> {
                    int times = previous == null || previous.expired(now) ? 1 : previous.times + 1;
                    Duration step = RelayWorker.errorBackoff(times, maxErrorBackoff);
                    long hold = 2 * Math.max(pause.toNanos(), step.toNanos());
                    return new Unavailable(destination, times, now + hold, now + 2 * hold);
                  });
          until.merge(key, entry.heldUntil, Math::max);
        });
  }

  /** Whether some key is remembered as waiting for an unavailable destination; no clock read. */
  boolean holdsUnavailable() {
    return !unavailable.isEmpty();
  }

  /** The key's event went through (published, set to retry or dead-lettered). */
  void settled(String key) {
    unavailable.remove(key);
  }

  /**
   * An event to {@code destination} went through: the keys held back because that destination was
   * unavailable are free to go at once.
   */
  void available(String destination) {
    unavailable.forEach(
        (key, entry) -> {
          if (entry.destination.equals(destination) && unavailable.remove(key, entry)) {
            until.remove(key, entry.heldUntil);
          }
        });
  }

  /**
   * Ends the holds of the keys held back for an unavailable destination, which still count as
   * unavailable until their events go through. Returns whether there was such a hold.
   */
  boolean releaseUnavailable() {
    boolean released = false;
    for (Map.Entry<String, Unavailable> entry : unavailable.entrySet()) {
      released |= until.remove(entry.getKey(), entry.getValue().heldUntil);
    }
    return released;
  }

  /**
   * Whether some key was held back for an unavailable destination and has not gone through since. A
   * key counts until its event goes through, or until twice its hold passed without this relay
   * sending it again (its slot moved to another instance, say).
   */
  boolean anyUnavailable() {
    long now = nanoTime.getAsLong();
    unavailable.values().removeIf(entry -> entry.expired(now));
    return !unavailable.isEmpty();
  }

  /** Nanoseconds until the first held key is due, or -1 if none is held. */
  long nanosUntilNextDue() {
    long now = nanoTime.getAsLong();
    long next = Long.MAX_VALUE;
    for (long end : until.values()) {
      next = Math.min(next, Math.max(0, end - now));
    }
    return next == Long.MAX_VALUE ? -1 : next;
  }

  private record Unavailable(String destination, int times, long heldUntil, long forgetAt) {
    boolean expired(long now) {
      return forgetAt - now <= 0;
    }
  }
}
