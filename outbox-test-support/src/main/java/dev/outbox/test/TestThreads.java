package dev.outbox.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Where a test runs the steps it starts in the background ({@code CompletableFuture.runAsync(step,
 * TestThreads.OWN_THREAD)}).
 *
 * <p>Without an executor, {@code CompletableFuture} runs a step on the common fork-join pool. On a
 * two-core machine that pool has one thread, and on Java 25 the steps queue for it: a step that
 * waits for another (two writers contending for one lock, a consumer waiting for a producer) waits
 * forever. Java 17 gave each step a thread of its own on such a machine, which hid this.
 */
public final class TestThreads {

  private static final AtomicInteger STARTED = new AtomicInteger();

  /** Runs each step on a new daemon thread, so steps that block never wait for each other. */
  public static final Executor OWN_THREAD =
      step -> {
        Thread thread = new Thread(step, "test-step-" + STARTED.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
      };

  private TestThreads() {}

  /**
   * Runs {@code count} steps, each on a thread of its own, released together once all of them are
   * ready, and returns their results in order. Each step gets its index. Fails if the threads are
   * not all ready within {@code timeout}, or if a step has not finished within it.
   */
  public static <T> List<T> allAtOnce(int count, IntFunction<T> step, Duration timeout)
      throws Exception {
    CyclicBarrier together = new CyclicBarrier(count);
    List<CompletableFuture<T>> steps = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      steps.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  together.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception ex) {
                  throw new IllegalStateException("The steps did not start together", ex);
                }
                return step.apply(index);
              },
              OWN_THREAD));
    }
    List<T> results = new ArrayList<>();
    for (CompletableFuture<T> started : steps) {
      results.add(started.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    }
    return results;
  }
}
