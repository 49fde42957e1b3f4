package dev.outbox.concurrent;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way the library makes threads: daemon threads named {@code <prefix>-<role>}, whose
 * uncaught failures are logged instead of vanishing.
 */
public final class NamedThreads implements ThreadFactory {

  private static final Logger log = LoggerFactory.getLogger(NamedThreads.class);

  private final String prefix;
  private final AtomicInteger unnamed = new AtomicInteger();

  public NamedThreads(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  /** A new, not yet started thread named {@code <prefix>-<role>}. */
  public Thread thread(String role, Runnable body) {
    Thread thread = new Thread(body, prefix + "-" + role);
    thread.setDaemon(true);
    thread.setUncaughtExceptionHandler(
        (t, failure) ->
            log.error("Thread {} ended with an uncaught failure", t.getName(), failure));
    return thread;
  }

  /** For executors: threads named {@code <prefix>-<n>}. */
  @Override
  public Thread newThread(Runnable body) {
    return thread(Integer.toString(unnamed.incrementAndGet()), body);
  }

  /**
   * Waits for {@code thread} to end: {@code grace} first, then interrupts it and waits again,
   * logging every {@code grace} while it still runs, so no caller goes on with the thread alive.
   */
  public static void stop(Thread thread, java.time.Duration grace) {
    boolean interrupted = false;
    try {
      long millis = Math.max(1, grace.toMillis());
      thread.join(millis);
      while (thread.isAlive()) {
        thread.interrupt();
        thread.join(millis);
        if (thread.isAlive()) {
          log.warn("Waiting for thread {} to end", thread.getName());
        }
      }
    } catch (InterruptedException ex) {
      interrupted = true;
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
