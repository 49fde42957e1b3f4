package dev.outbox.test;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts a Spring Boot service in a test with a bound on how long its startup may take: for
 * services whose startup may wait on a database that answers nothing. The startup runs on a daemon
 * thread of its own, so a test that fails does not leave its own thread waiting.
 */
public final class ServiceStartup {

  private ServiceStartup() {}

  /**
   * Starts {@code service} and returns it once started, failing with where its startup thread is if
   * that takes longer than {@code bound}; such a startup is closed if it ends later.
   */
  public static ConfigurableApplicationContext startWithin(
      Duration bound, SpringApplicationBuilder service) throws Exception {
    FutureTask<ConfigurableApplicationContext> startup = new FutureTask<>(service::run);
    Thread starter = daemon("service-startup", startup);
    try {
      return startup.get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException ex) {
      closeOnceStarted(startup);
      throw new AssertionError(
          "The service did not start within "
              + bound
              + "; its startup thread is at "
              + Arrays.toString(starter.getStackTrace()),
          ex);
    }
  }

  /**
   * Closes the service if a startup still under way ends with one (a test that closes the
   * database's proxy afterwards ends a startup still waiting for it).
   */
  public static void closeOnceStarted(FutureTask<ConfigurableApplicationContext> startup) {
    daemon(
        "service-closer",
        () -> {
          try {
            startup.get().close();
          } catch (Exception ignored) {
            // it did not start
          }
        });
  }

  /** Runs {@code body} on a new daemon thread named {@code name}, and returns that thread. */
  public static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
