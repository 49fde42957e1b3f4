package dev.outbox.store;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the relays of other instances through PostgreSQL {@code LISTEN}/{@code NOTIFY}, never
 * inside a business transaction: {@link #signal()} only sets a flag, and a background thread sends
 * at most one {@code NOTIFY} per {@link #MIN_INTERVAL}, on a pooled connection borrowed for it.
 * Another thread holds a {@code LISTEN} connection and runs the wake-up callback for each
 * notification; waiting for notifications issues no queries, so an idle instance costs the database
 * nothing.
 */
public final class PostgresWakeups implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresWakeups.class);

  /** The shortest pause between two notifications sent by one instance. */
  public static final Duration MIN_INTERVAL = Duration.ofMillis(20);

  private final DataSource dataSource;
  private final String channel;
  private final Runnable onWake;
  private final Signal requested = new Signal();
  private volatile Signal stopping = new Signal();
  private boolean closed;
  private final NamedThreads threads = new NamedThreads("outbox");
  private volatile boolean running;
  private @Nullable Thread sender;
  private @Nullable Thread listener;

  /**
   * @param onWake run on the listening thread for every notification received (also for this
   *     instance's own); must be quick
   */
  public PostgresWakeups(DataSource dataSource, TableName table, Runnable onWake) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.onWake = Objects.requireNonNull(onWake, "onWake");
    String name = "outbox_" + table.qualified().replace('.', '_');
    this.channel = name.length() <= 63 ? name : "outbox_" + Integer.toHexString(name.hashCode());
  }

  public String channel() {
    return channel;
  }

  /**
   * Starts sending notifications and, if {@code listen}, receiving them (an instance without a
   * relay has nothing to wake, so it does not hold a listening connection).
   */
  public synchronized void start(boolean listen) {
    if (closed) {
      throw new IllegalStateException("Outbox wake-ups on " + channel + " are closed");
    }
    if (running) {
      return;
    }
    stopping = new Signal();
    running = true;
    sender = threads.thread("notify", this::sendLoop);
    sender.start();
    if (listen) {
      listener = threads.thread("listen", this::listenLoop);
      listener.start();
    }
  }

  /** Asks for one notification to be sent soon. Never blocks and never touches the database. */
  public void signal() {
    requested.signal();
  }

  private void sendLoop() {
    while (running) {
      try {
        if (!requested.await()) {
          continue;
        }
        // a pooled connection per notification: at most one every MIN_INTERVAL
        try (Connection connection = dataSource.getConnection();
            PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, '')")) {
          if (!connection.getAutoCommit()) {
            connection.setAutoCommit(true);
          }
          statement.setString(1, channel);
          statement.execute();
        }
        stopping.await(MIN_INTERVAL);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        break;
      } catch (SQLException | RuntimeException ex) {
        log.debug("Could not notify other outbox relays: {}", ex.getMessage());
        pause();
      }
    }
  }

  private void listenLoop() {
    Connection connection = null;
    while (running) {
      try {
        if (connection == null || connection.isClosed()) {
          connection = dataSource.getConnection();
          connection.setAutoCommit(true);
          try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN " + channel);
          }
          // Events may have been written while this instance was not listening.
          onWake.run();
        }
        PGNotification[] notifications =
            connection.unwrap(PGConnection.class).getNotifications(1000);
        if (notifications != null && notifications.length > 0) {
          onWake.run();
        }
      } catch (SQLException | RuntimeException ex) {
        if (running) {
          log.debug("Outbox LISTEN connection lost; reconnecting: {}", ex.getMessage());
        }
        release(connection);
        connection = null;
        pause();
      }
    }
    release(connection);
  }

  /** Stops listening before the connection goes back to a pool that may hand it out again. */
  private static void release(@Nullable Connection connection) {
    if (connection == null) {
      return;
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute("UNLISTEN *");
    } catch (SQLException | RuntimeException ignored) {
      // a broken connection is discarded by the pool anyway
    }
    PostgresOutboxRepository.closeQuietly(connection);
  }

  private void pause() {
    try {
      stopping.await(Duration.ofSeconds(1));
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Stops both threads and waits until they have ended; {@link #start} may follow. */
  public synchronized void stop() {
    running = false;
    stopping.close();
    requested.signal();
    for (Thread thread : new Thread[] {sender, listener}) {
      if (thread != null) {
        NamedThreads.stop(thread, Duration.ofSeconds(2));
      }
    }
    sender = null;
    listener = null;
  }

  /** Stops for good. */
  @Override
  public synchronized void close() {
    stop();
    closed = true;
  }
}
