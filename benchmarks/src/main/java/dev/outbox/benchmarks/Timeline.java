package dev.outbox.benchmarks;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;

/**
 * Commit and acknowledgement instants ({@link System#nanoTime()}) per event number {@code n}. An
 * acknowledgement may be recorded before its commit instant is (the relay can be faster than the
 * writer thread's bookkeeping), so latencies are computed only at the end.
 */
final class Timeline {

  private final AtomicLongArray commits;
  private final AtomicLongArray acks;
  private final AtomicLong acked = new AtomicLong();

  Timeline(int capacity) {
    commits = new AtomicLongArray(capacity);
    acks = new AtomicLongArray(capacity);
  }

  /** Event numbers from here on are warm-up events and are not recorded. */
  static final long WARM_UP_FROM = 100_000_000L;

  void committed(long n, long nanos) {
    if (n >= commits.length()) {
      return;
    }
    commits.set((int) n, nanos);
  }

  void acked(long n, long nanos) {
    if (n >= 0 && n < acks.length() && acks.getAndSet((int) n, nanos) == 0) {
      acked.incrementAndGet();
    }
  }

  long ackedCount() {
    return acked.get();
  }

  /** Commit-to-ack latency of the events {@code from} (inclusive) to {@code to} (exclusive). */
  Histogram latency(int from, int to) {
    Histogram histogram = Pct.micros();
    for (int n = from; n < to; n++) {
      long commit = commits.get(n);
      long ack = acks.get(n);
      if (commit != 0 && ack != 0) {
        histogram.recordValue(Math.max(0, (ack - commit) / 1000));
      }
    }
    return histogram;
  }

  /** Events in [from, to) that were committed but never acknowledged. */
  long unacked(int from, int to) {
    long missing = 0;
    for (int n = from; n < to; n++) {
      if (commits.get(n) != 0 && acks.get(n) == 0) {
        missing++;
      }
    }
    return missing;
  }
}
