package dev.outbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.concurrent.NamedThreads;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks a {@link DataSource} for a connection on a thread of its own and waits for it at most a
 * given time, so that a database that accepts connections and then answers nothing (a frozen host,
 * a network that drops packets) holds the caller up for that long only.
 *
 * <p>HikariCP opens its first connection on the caller's thread, and its connection timeout does
 * not bound that one: it hands the timeout to the driver as {@code DriverManager}'s login timeout,
 * which pgjdbc ignores. With pgjdbc's defaults (no {@code loginTimeout}, no {@code socketTimeout})
 * that connection waits for ever, and so would the application's startup. An attempt still waiting
 * is not repeated at once: the next call waits for the same one, and its connection is closed when
 * it comes. An attempt still waiting when the application closes keeps its daemon thread until the
 * driver gives up; should the database answer then, HikariCP may create its pool after it was
 * closed (pgjdbc's {@code loginTimeout} bounds that wait).
 *
 * <p>Used by the library's startup checks of its tables: the outbox's ({@link
 * OutboxSchemaInitializer}) and the inbox's ({@code outbox-inbox}, another package, hence public);
 * not meant for applications.
 */
public final class DatabaseProbe {

  private static final Logger log = LoggerFactory.getLogger(DatabaseProbe.class);

  /**
   * Attempts that may wait at once: one that outlived the timeout is joined by a fresh one (a data
   * source that does not serialise its first connection may then get through), but no more, since
   * with HikariCP the later ones only queue behind the first.
   */
  private static final int MAX_WAITING_ATTEMPTS = 2;

  private final DataSource dataSource;
  private final Duration timeout;
  private final NamedThreads threads = new NamedThreads("outbox");
  private final AtomicInteger waiting = new AtomicInteger();
  private @Nullable CompletableFuture<Void> attempt;
  private long attemptStarted;

  /**
   * @param timeout how long each check waits for the database to give it a connection (the outbox's
   *     database timeout: {@link OutboxAutoConfiguration#databaseTimeout}); positive
   */
  public DatabaseProbe(DataSource dataSource, Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("databaseTimeout must be positive, was " + timeout);
    }
    this.dataSource = dataSource;
    this.timeout = timeout;
  }

  /**
   * Returns once the data source has given a connection (closed again at once) within {@code
   * timeout}.
   *
   * @param timeout how long to wait (the failure calls it the outbox's database timeout)
   * @throws SQLTransientConnectionException if none came within {@code timeout}
   * @throws SQLException the data source's own failure, if it failed within {@code timeout}
   */
  private void awaitConnection() throws SQLException {
    CompletableFuture<Void> current = currentAttempt();
    try {
      current.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException ex) {
      throw new SQLTransientConnectionException(
          "the database did not answer a connection attempt within "
              + timeout.toMillis()
              + " ms (the outbox's database timeout); the attempt waits on for as long as the"
              + " driver lets it (pgjdbc's loginTimeout or socketTimeout)",
          "08001",
          ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new SQLTransientConnectionException(
          "interrupted while waiting for a connection", "08001", ex);
    } catch (ExecutionException ex) {
      Throwable failure = ex.getCause();
      if (failure instanceof SQLException sql) {
        throw sql;
      }
      if (failure instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("A connection attempt of a startup check failed", failure);
    }
  }

  /**
   * Waits at most the timeout for the data source to give a connection (closed again at once), for
   * a startup check of a table: the database's silence or absence fails as an {@link
   * OutboxException} whose message is {@code failing} followed by the reason ({@code "Could not
   * migrate outbox_event: "}). Any other failure (a rejected password, say) returns, left to the
   * check itself, which reports it in its own words.
   */
  public void awaitDatabase(String failing) {
    try {
      awaitConnection();
    } catch (SQLException | RuntimeException ex) {
      if (TableMigrations.isConnectionFailure(ex)) {
        throw new OutboxException(failing + ex.getMessage(), ex);
      }
    }
  }

  /**
   * The attempt under way, or a new one if the last has ended, or has waited longer than the
   * timeout while fewer than {@value #MAX_WAITING_ATTEMPTS} wait.
   */
  private synchronized CompletableFuture<Void> currentAttempt() {
    CompletableFuture<Void> current = attempt;
    long now = System.nanoTime();
    if (current == null
        || current.isDone()
        || (now - attemptStarted >= timeout.toNanos() && waiting.get() < MAX_WAITING_ATTEMPTS)) {
      CompletableFuture<Void> started = new CompletableFuture<>();
      waiting.incrementAndGet();
      threads.thread("database-probe", () -> connect(started)).start();
      attempt = started;
      attemptStarted = now;
      current = started;
    }
    return current;
  }

  private void connect(CompletableFuture<Void> outcome) {
    try (Connection ignored = dataSource.getConnection()) {
      outcome.complete(null);
    } catch (Throwable ex) {
      // An Error too: an attempt that never completes would make every later check wait it out
      log.debug("A connection attempt of a startup check failed: {}", ex.toString());
      outcome.completeExceptionally(ex);
    } finally {
      waiting.decrementAndGet();
    }
  }
}
