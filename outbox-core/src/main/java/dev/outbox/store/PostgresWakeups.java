package dev.outbox.store;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.RelayTiming;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
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
 * notification; waiting for notifications issues no queries. After {@code databaseTimeout} without
 * a notification the listening thread asks the database a trivial question on that connection, so
 * that a connection that died without a word (a server that went away while the network dropped
 * packets) is found out and replaced within about twice that time: an idle instance costs the
 * database one statement per {@code databaseTimeout}. Both connections are bounded by {@code
 * databaseTimeout} as the relay's are, so neither thread, nor {@link #stop()}, waits much longer on
 * a database that stopped answering.
 */
public final class PostgresWakeups implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresWakeups.class);

  /** The shortest pause between two notifications sent by one instance. */
  public static final Duration MIN_INTERVAL = Duration.ofMillis(20);

  /**
   * The database timeout of a relay with the default lease timeout and a poll interval of at most a
   * third of it: what to pass to the constructor for such a relay. Otherwise pass {@code
   * RelayTiming.databaseTimeout(RelayTiming.defaultLeaseTimeout(pollInterval))}, or the relay's
   * {@code RelayTiming.databaseTimeout()}.
   */
  public static final Duration DEFAULT_DATABASE_TIMEOUT =
      RelayTiming.databaseTimeout(OutboxDefaults.LEASE_TIMEOUT);

  private final StoreConnections connections;
  private final long checkAfterNanos;
  private final String channel;
  private final LongConsumer onWake;
  private final Signal requested = new Signal();

  /** The slots (a bit set, see {@link Slots}) of the signals not yet sent. */
  private final AtomicLong toWake = new AtomicLong();

  private volatile Signal stopping = new Signal();
  private boolean closed;
  private final NamedThreads threads = new NamedThreads("outbox");
  private volatile boolean running;
  private @Nullable Thread sender;
  private @Nullable Thread listener;

  /**
   * @param onWake run on the listening thread for every notification received (also for this
   *     instance's own) with the slots it names (a bit set, see {@link Slots}; every slot for a
   *     notification without them, such as one of an older version); must be quick. The local
   *     relay's {@code relay::wakeUp} fits.
   * @param databaseTimeout the longest either connection waits for an answer of the database, and
   *     how long the listening connection may go without a notification before it is checked (the
   *     relay's {@code RelayTiming.databaseTimeout()}; {@link #DEFAULT_DATABASE_TIMEOUT} for a
   *     relay with the default timings)
   */
  public PostgresWakeups(
      DataSource dataSource, TableName table, LongConsumer onWake, Duration databaseTimeout) {
    this.connections = new StoreConnections(Objects.requireNonNull(dataSource, "dataSource"));
    if (databaseTimeout.isNegative() || databaseTimeout.isZero()) {
      throw new IllegalArgumentException(
          "databaseTimeout must be positive, was " + databaseTimeout);
    }
    connections.bound(databaseTimeout);
    this.checkAfterNanos = databaseTimeout.toNanos();
    this.onWake = Objects.requireNonNull(onWake, "onWake");
    String name = "outbox_" + table.qualified().replace('.', '_');
    this.channel = name.length() <= 63 ? name : "outbox_" + Integer.toHexString(name.hashCode());
  }

  public String channel() {
    return channel;
  }

  /**
   * Starts sending notifications and, if {@code listen}, receiving them (an instance without a
   * relay has nothing to wake, so it does not hold a listening connection). Called again with
   * {@code listen} once started without, it starts receiving too: the starter does so once the
   * database has answered, since a thread waiting for a connection that a silent database never
   * gives (a pool's first one, for as long as the driver waits) would hold {@link #stop()} up.
   */
  public synchronized void start(boolean listen) {
    if (closed) {
      throw new IllegalStateException("Outbox wake-ups on " + channel + " are closed");
    }
    if (!running) {
      stopping = new Signal();
      running = true;
      sender = threads.thread("notify", this::sendLoop);
      sender.start();
    }
    if (listen && (listener == null || !listener.isAlive())) {
      listener = threads.thread("listen", this::listenLoop);
      listener.start();
    }
  }

  /**
   * Asks for one notification to be sent soon, for every slot. Never blocks and never touches the
   * database.
   */
  public void signal() {
    signal(Slots.ALL);
  }

  /**
   * Asks for one notification to be sent soon, naming {@code slots} (a bit set, see {@link Slots})
   * with those of the other signals since the last one: the listeners' relays look at those slots
   * only. Never blocks and never touches the database.
   */
  public void signal(long slots) {
    toWake.accumulateAndGet(slots, (a, b) -> a | b);
    requested.signal();
  }

  private void sendLoop() {
    while (running) {
      try {
        if (!requested.await()) {
          continue;
        }
        long slots = toWake.getAndSet(0);
        if (slots == 0) {
          continue;
        }
        // a pooled connection per notification: at most one every MIN_INTERVAL
        try (Connection connection = connections.autocommit();
            PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
          statement.setString(1, channel);
          statement.setString(2, Long.toHexString(slots));
          statement.execute();
        } catch (SQLException | RuntimeException ex) {
          signal(slots); // sent again after the pause
          throw ex;
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
    long lastHeard = 0;
    while (running) {
      try {
        if (connection == null || connection.isClosed()) {
          connection = connections.autocommit();
          try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN " + channel);
          }
          lastHeard = System.nanoTime();
          // Events may have been written while this instance was not listening.
          onWake.accept(Slots.ALL);
        }
        PGNotification[] notifications =
            connection.unwrap(PGConnection.class).getNotifications(1000);
        if (notifications != null && notifications.length > 0) {
          lastHeard = System.nanoTime();
          long slots = 0;
          for (PGNotification notification : notifications) {
            slots |= slotsOf(notification.getParameter());
          }
          onWake.accept(slots);
        } else if (System.nanoTime() - lastHeard >= checkAfterNanos) {
          // Waiting for notifications only reads: a connection whose server is gone stays quiet
          try (Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1");
          }
          lastHeard = System.nanoTime();
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

  /** The slots a notification names; every slot if it names none or cannot be read. */
  static long slotsOf(@Nullable String payload) {
    if (payload == null || payload.isEmpty() || payload.length() > 16) {
      return Slots.ALL;
    }
    try {
      long slots = Long.parseUnsignedLong(payload, 16);
      return slots == 0 ? Slots.ALL : slots;
    } catch (NumberFormatException ex) {
      return Slots.ALL;
    }
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
