package dev.outbox.test;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

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
}
