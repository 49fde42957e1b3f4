package dev.outbox.kafka.multi;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Writers committing events at a fixed rate while relays run: {@code writers} threads, each with
 * its own connection and its own share of {@code keys} keys ({@code key-0} …), each committing the
 * next event of its next key every {@code interval}.
 */
public final class WriterLoad implements AutoCloseable {

  private final ScheduledExecutorService executor;
  private final List<Connection> connections = new ArrayList<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  private WriterLoad(int writers) {
    this.executor = Executors.newScheduledThreadPool(writers);
  }

  public static WriterLoad start(
      OutboxWriters outbox, String topic, int writers, int keys, Duration interval) {
    WriterLoad load = new WriterLoad(writers);
    for (int w = 0; w < writers; w++) {
      Connection connection = OutboxWriters.connect();
      load.connections.add(connection);
      List<String> own = new ArrayList<>();
      for (int k = w; k < keys; k += writers) {
        own.add("key-" + k);
      }
      int[] next = {0};
      load.executor.scheduleAtFixedRate(
          () -> {
            try {
              outbox.writeNext(connection, topic, own.get(next[0]++ % own.size()));
            } catch (RuntimeException | Error ex) {
              load.failure.compareAndSet(null, ex);
              throw ex;
            }
          },
          0,
          interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    return load;
  }

  /** Stops writing after the writes in progress; returns whether every writer ended in time. */
  public boolean stop() throws InterruptedException {
    executor.shutdown();
    return executor.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** The first failure of a write, or null. */
  public @Nullable Throwable failure() {
    return failure.get();
  }

  @Override
  public void close() throws InterruptedException, SQLException {
    executor.shutdownNow();
    executor.awaitTermination(10, TimeUnit.SECONDS);
    for (Connection connection : connections) {
      connection.close();
    }
  }
}
