package dev.outbox.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * B3: the highest rate the service sustains. {@code clients} threads run business transactions
 * (UPDATE + {@code perTx} events) back to back while the relay publishes to Kafka in the same
 * process. Over the measured window it counts events committed and events acknowledged by the
 * broker; the sustainable rate is the acknowledged rate when the backlog does not grow, and is
 * otherwise bounded by it.
 *
 * <p>Two variants measure only the commit rate, with the relay off (nothing is published): {@link
 * Mode#WRITER} writes the events through the library as above, {@link Mode#HAND} writes the event's
 * row with a hand-written INSERT ({@link TxCostCase.HandWriter}). The second is what this machine
 * sustains for the business transactions alone, the ceiling of any outbox that publishes from the
 * same database and JVM; the first separates what the writer costs from what the relay costs.
 */
final class ThroughputCase {

  /** What the clients' transactions write and whether the relay publishes it. */
  enum Mode {
    /** Events through the library, published by its relay: the case itself. */
    OUTBOX,
    /** Events through the library, relay off. */
    WRITER,
    /** A hand-written INSERT of the event's row, relay off. */
    HAND
  }

  private ThroughputCase() {}

  static Map<String, Object> run(
      Settings settings,
      String topic,
      int clients,
      int perTx,
      Mode mode,
      double seconds,
      double warmup) {
    Timeline timeline = new Timeline(4_000_000);
    AtomicLong next = new AtomicLong();
    AtomicLong committed = new AtomicLong();
    OutboxApp.acks = (event, nanos) -> timeline.acked(OrderEvent.parseN(event.payload()), nanos);
    boolean publishing = mode == Mode.OUTBOX;
    Map<String, String> extra = publishing ? Map.of() : Map.of("outbox.relay.enabled", "false");
    try (OutboxApp.Running app =
        OutboxApp.run(OutboxApp.properties(settings, "kafka", clients + 4, extra))) {
      Transaction transaction =
          mode == Mode.HAND
              ? new TxCostCase.HandWriter(app)::transaction
              : (first, count, keys) -> app.businessTransaction(topic, first, count, keys);
      if (publishing) {
        app.warmUp(topic, 200);
      } else {
        for (int i = 0; i < 200; i++) {
          transaction.run(Timeline.WARM_UP_FROM + i, 1, 10_000);
        }
      }
      long warmupEnd = System.nanoTime() + (long) (warmup * 1e9);
      long end = warmupEnd + (long) (seconds * 1e9);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Thread thread =
            new Thread(
                () -> {
                  while (System.nanoTime() < end) {
                    long first = next.getAndAdd(perTx);
                    if (first + perTx >= 4_000_000) {
                      return;
                    }
                    long at = transaction.run(first, perTx, 10_000);
                    for (long n = first; n < first + perTx; n++) {
                      timeline.committed(n, at);
                    }
                    committed.addAndGet(perTx);
                  }
                },
                "client-" + i);
        thread.start();
        threads.add(thread);
      }
      LatencyCase.sleep((long) (warmup * 1000));
      long committedAtStart = committed.get();
      long ackedAtStart = timeline.ackedCount();
      long windowStart = System.nanoTime();
      Child.emit("WINDOW-START");
      LatencyCase.sleep((long) (seconds * 1000));
      long committedAtEnd = committed.get();
      long ackedAtEnd = timeline.ackedCount();
      double window = (System.nanoTime() - windowStart) / 1e9;
      Child.emit("WINDOW-END");
      for (Thread thread : threads) {
        join(thread);
      }
      long totalCommitted = committed.get();
      if (!publishing) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("clients", clients);
        out.put("perTx", perTx);
        out.put("commitRate", Math.round((committedAtEnd - committedAtStart) / window));
        return out;
      }
      long drainStart = System.nanoTime();
      long deadline = drainStart + 120_000_000_000L;
      while (timeline.ackedCount() < totalCommitted && System.nanoTime() < deadline) {
        LatencyCase.sleep(10);
      }
      double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
      double commitRate = (committedAtEnd - committedAtStart) / window;
      double ackRate = (ackedAtEnd - ackedAtStart) / window;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("clients", clients);
      out.put("perTx", perTx);
      out.put("commitRate", Math.round(commitRate));
      out.put("publishRate", Math.round(ackRate));
      out.put("sustainable", Math.round(Math.min(commitRate, ackRate)));
      out.put("backlogAtEnd", committedAtEnd - ackedAtEnd);
      out.put("drainAfterStopSeconds", TxCostCase.round(drainSeconds));
      out.put(
          "latency", Pct.summary(timeline.latency(0, (int) Math.min(totalCommitted, 4_000_000))));
      return out;
    }
  }

  /** One business transaction writing {@code count} events; returns the instant it committed. */
  private interface Transaction {
    long run(long first, int count, int keys);
  }

  private static void join(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }
}
