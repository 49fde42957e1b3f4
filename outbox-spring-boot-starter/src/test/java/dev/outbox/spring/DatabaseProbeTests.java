package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DatabaseProbe} with data sources that answer as a test tells them: one attempt that never
 * ends, or ends with an {@link Error}, must not make every later check fail.
 */
class DatabaseProbeTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  /** Releases the attempts a test left waiting. */
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void releaseWaitingAttempts() {
    release.countDown();
  }

  /** How many times a test's data source was asked for a connection. */
  private final AtomicInteger calls = new AtomicInteger();

  @Test
  void anAttemptThatNeverEndsIsJoinedByAFreshOneOnceItOutlivedTheTimeout() {
    DatabaseProbe probe =
        new DatabaseProbe(
            dataSource(() -> await(release)), // a socket the database never answers
            TIMEOUT);

    assertThatThrownBy(() -> probe.awaitDatabase("Could not migrate t: "))
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith(
            "Could not migrate t: the database did not answer a connection attempt within 2000 ms");
    assertThatCode(() -> probe.awaitDatabase("Could not migrate t: "))
        .as("the second check starts an attempt of its own, which gets a connection")
        .doesNotThrowAnyException();
    assertThat(calls).hasValue(2);
  }

  @Test
  void anAttemptEndedByAnErrorIsNotWaitedForAgain() {
    DatabaseProbe probe =
        new DatabaseProbe(
            dataSource(
                () -> {
                  throw new NoClassDefFoundError("org/postgresql/Simulated");
                }),
            TIMEOUT);

    assertThatCode(() -> probe.awaitDatabase("Could not migrate t: "))
        .as("not the database's silence: left to the check itself, which reports it")
        .doesNotThrowAnyException();
    assertThatCode(() -> probe.awaitDatabase("Could not migrate t: ")).doesNotThrowAnyException();
    assertThat(calls).hasValue(2);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A data source that counts its {@code getConnection()} calls in {@link #calls}: the first runs
   * {@code firstCall} (which may block or throw) before it gives a connection, the others give one
   * at once.
   */
  private DataSource dataSource(Runnable firstCall) {
    return (DataSource)
        Proxy.newProxyInstance(
            DatabaseProbeTests.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) {
                if (calls.incrementAndGet() == 1) {
                  firstCall.run();
                }
                return connection();
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }

  /** A connection that can only be closed. */
  private static Connection connection() {
    return (Connection)
        Proxy.newProxyInstance(
            DatabaseProbeTests.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close")) {
                return null;
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
