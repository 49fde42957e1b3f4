package dev.outbox.relay;

import dev.outbox.store.RelayStore.Held;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Keys held back, until when (by the relay's monotonic clock): by a retry that is not yet due, or
 * by a destination that does not take events for now. The table is the truth — a row's attempts and
 * due time hold its key back for any relay that reads it — this only lets the relay skip those
 * keys' rows when it reads, so that the rows behind them are reached.
 *
 * <p>A closed destination ({@link #close}) is one that refused events on its own while others took
 * theirs (Kafka: a topic without write permission). Its keys are held for the closure, and its
 * unkeyed events are left out by their destination; when it ends, its events are read and tried
 * again (the probe). A probe that fails again closes it for twice as long, up to the relay's
 * longest pause after a failure; an event that goes through opens it.
 */
final class HeldKeys {

  /** The first closure of a destination. */
  static final Duration FIRST_CLOSURE = Duration.ofSeconds(1);

  private final Map<String, Long> until = new ConcurrentHashMap<>();
  private final Map<String, Closure> closed = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;
  private final long probeNanos;

  /** Set when a key whose time was up is forgotten, until {@link #nanosUntilNextDue} says so. */
  private final AtomicBoolean fellDue = new AtomicBoolean();

  /** When {@link #nanosUntilNextDue} last looked (the relay's monotonic clock). */
  private long lookedAt;

  /**
   * @param probe the longest a batch that tries a closed destination's events again may take (the
   *     publish timeout)
   */
  HeldKeys(LongSupplier nanoTime, Duration probe) {
    this.nanoTime = nanoTime;
    this.probeNanos = probe.toNanos();
    this.lookedAt = nanoTime.getAsLong();
  }

  void hold(String key, long millis) {
    long end = nanoTime.getAsLong() + Math.max(0, millis) * 1_000_000;
    until.merge(key, end, Math::max);
  }

  /**
   * What the next read leaves out: the keys still held (the others are forgotten) and the
   * destinations whose closure lasts, whose unkeyed events are left out with it.
   */
  Held current() {
    long now = nanoTime.getAsLong();
    forgetKeysDueBy(now);
    List<String> destinations = new ArrayList<>();
    closed.forEach(
        (destination, closure) -> {
          if (closure.until - now > 0) {
            destinations.add(destination);
          }
        });
    return new Held(until.keySet(), destinations);
  }

  /**
   * Nanoseconds until the first held key is due or a closure ends, or -1 if neither is pending; 0
   * when one of them fell due since the last call, once for each time: the slots that may hold
   * their events are to be read again now. Neither a worker that cannot read (no slot held, or its
   * lease not known to be valid) nor one kept busy by other slots misses it or is told over and
   * over.
   */
  synchronized long nanosUntilNextDue() {
    long now = nanoTime.getAsLong();
    forgetKeysDueBy(now);
    long next = fellDue.getAndSet(false) ? 0 : Long.MAX_VALUE;
    for (long end : until.values()) {
      next = Math.min(next, end - now);
    }
    for (Closure closure : closed.values()) {
      long left = closure.until - now;
      if (left > 0) {
        next = Math.min(next, left);
      } else if (closure.until - lookedAt > 0) {
        next = 0; // ended since the last call: its probe is due
      }
    }
    lookedAt = now;
    return next == Long.MAX_VALUE ? -1 : next;
  }

  /** Forgets the keys whose time is up by {@code now}, noting that they fell due. */
  private void forgetKeysDueBy(long now) {
    if (until.values().removeIf(end -> end - now <= 0)) {
      fellDue.set(true);
    }
  }

  /**
   * Notes that {@code destination} refused an event on its own. While an earlier closure lasts, it
   * goes on, and the keys of newly read events are held for what is left of it. Otherwise a new
   * closure starts, twice the last one when it follows that one's probe (it ended at most a probe's
   * longest time ago), else {@link #FIRST_CLOSURE}, at most {@code longest}; the caller then looks
   * up the keys of the destination's pending events and holds them for its length.
   */
  synchronized Closing close(String destination, Duration longest) {
    long now = nanoTime.getAsLong();
    Closure last = closed.get(destination);
    if (last != null && last.until - now > 0) {
      return new Closing(Duration.ofNanos(last.until - now), false);
    }
    if (last != null && probeOver(last, now)) {
      last = null; // ended longer ago than a probe takes: the refusal before it is no longer news
    }
    long cap = Math.max(1, longest.toMillis());
    long millis =
        last == null
            ? Math.min(FIRST_CLOSURE.toMillis(), cap)
            : Math.min(Math.max(1, last.millis) * 2, cap);
    closed.put(destination, new Closure(now, now + millis * 1_000_000, millis));
    return new Closing(Duration.ofMillis(millis), true);
  }

  /**
   * An event went to {@code destination} in a batch that started at {@code batchStarted} (the
   * relay's monotonic clock): it takes events again. A closure that started after that batch is
   * kept: the event may have gone through before the refusal that closed the destination.
   */
  void opened(String destination, long batchStarted) {
    closed.computeIfPresent(
        destination, (d, closure) -> closure.since - batchStarted < 0 ? null : closure);
  }

  /** Whether any destination was closed lately, so that {@link #opened} is worth calling. */
  boolean anyClosures() {
    return !closed.isEmpty();
  }

  /**
   * Whether a destination is closed, or its probe may be under way: a closure counts from its start
   * to a probe's longest time after its end, while its events are read and tried again. Forgets
   * closures that ended longer ago than that without a new one (nothing was left to try).
   */
  boolean anyClosed() {
    if (closed.isEmpty()) {
      return false;
    }
    long now = nanoTime.getAsLong();
    closed.values().removeIf(closure -> probeOver(closure, now));
    return !closed.isEmpty();
  }

  /** Whether {@code closure} ended longer ago than its probe may take. */
  private boolean probeOver(Closure closure, long now) {
    return closure.until + probeNanos - now <= 0;
  }

  /**
   * How long to hold a closed destination's keys, and whether to look up the keys of its pending
   * events (a new closure) or only hold those of the events just read (one under way).
   */
  record Closing(Duration hold, boolean lookUpKeys) {}

  private record Closure(long since, long until, long millis) {}
}
