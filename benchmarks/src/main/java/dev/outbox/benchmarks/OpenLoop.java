package dev.outbox.benchmarks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-loop load generator: starts task {@code n} at {@code start + n / rate}, whatever happened
 * to earlier tasks, on a pool of worker threads. A slow transaction therefore does not delay the
 * schedule (no coordinated omission); how late tasks started is reported.
 */
final class OpenLoop {

  private OpenLoop() {}

  /**
   * Runs {@code task} at {@code rate} for {@code seconds} with event numbers from {@link
   * Timeline#WARM_UP_FROM} (not recorded), then waits up to a minute until {@code drained} says the
   * warm-up events are published: the JIT has compiled the hot paths of the writer, the relay and
   * the clients at the measured rate before the measured window starts.
   */
  static void warmUp(
      double rate, double seconds, int workers, LongConsumer task, BooleanSupplier drained) {
    if (seconds <= 0) {
      return;
    }
    run(
        rate,
        Duration.ofMillis((long) (seconds * 1000)),
        workers,
        n -> task.accept(Timeline.WARM_UP_FROM + n));
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!drained.getAsBoolean() && System.nanoTime() < deadline) {
      LockSupport.parkNanos(50_000_000L);
    }
  }

  static Map<String, Object> run(double rate, Duration duration, int workers, LongConsumer task) {
    long total = (long) (rate * duration.toNanos() / 1e9);
    long period = (long) (1e9 / rate);
    Recorder lag = new Recorder(3);
    AtomicLong failures = new AtomicLong();
    AtomicLong done = new AtomicLong();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            workers,
            runnable -> {
              Thread t = new Thread(runnable, "load");
              t.setDaemon(true);
              return t;
            });
    long start = System.nanoTime();
    for (long n = 0; n < total; n++) {
      long intended = start + n * period;
      long wait;
      while ((wait = intended - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      long number = n;
      pool.execute(
          () -> {
            lag.recordValue(Math.max(0, (System.nanoTime() - intended) / 1000));
            try {
              task.accept(number);
              done.incrementAndGet();
            } catch (RuntimeException ex) {
              if (failures.incrementAndGet() <= 3) {
                ex.printStackTrace();
              }
            }
          });
    }
    pool.shutdown();
    try {
      pool.awaitTermination(5, TimeUnit.MINUTES);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Histogram lags = lag.getIntervalHistogram();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("scheduled", total);
    out.put("completed", done.get());
    out.put("failed", failures.get());
    out.put("achievedRate", Math.round(done.get() / seconds));
    out.put("startLagMs", Pct.summary(lags));
    return out;
  }
}
