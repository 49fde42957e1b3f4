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
 */
final class ThroughputCase {

  private ThroughputCase() {}

  static Map<String, Object> run(
      Settings settings, String topic, int clients, int perTx, double seconds, double warmup) {
    Timeline timeline = new Timeline(4_000_000);
    AtomicLong next = new AtomicLong();
    AtomicLong committed = new AtomicLong();
    OutboxApp.acks = (event, nanos) -> timeline.acked(OrderEvent.parseN(event.payload()), nanos);
    try (OutboxApp.Running app =
        OutboxApp.run(OutboxApp.properties(settings, "kafka", clients + 4, Map.of()))) {
      app.warmUp(topic, 200);
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
                    long at = app.businessTransaction(topic, first, perTx, 10_000);
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

  private static void join(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }
}
