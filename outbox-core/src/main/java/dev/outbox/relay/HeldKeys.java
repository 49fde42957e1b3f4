package dev.outbox.relay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Keys held back by a retry that is not yet due, until when (by the relay's monotonic clock). The
 * table is the truth — a row's attempts and due time hold its key back for any relay that reads it
 * — this only lets the relay skip those keys' rows when it reads.
 */
final class HeldKeys {

  private final Map<String, Long> until = new ConcurrentHashMap<>();
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

  /** Nanoseconds until the first held key is due, or -1 if none is held. */
  long nanosUntilNextDue() {
    long now = nanoTime.getAsLong();
    long next = Long.MAX_VALUE;
    for (long end : until.values()) {
      next = Math.min(next, Math.max(0, end - now));
    }
    return next == Long.MAX_VALUE ? -1 : next;
  }
}
