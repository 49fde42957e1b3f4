package dev.outbox.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * B2: commit-to-acknowledgement latency at a fixed rate. Business transactions (UPDATE + one event)
 * start on an open-loop schedule; the application ({@link OutboxApp}: the starter with its
 * defaults) runs the relay in the same process and wakes it after each commit. Latency is the
 * broker's acknowledgement instant minus the commit instant of each event. Before the measured
 * window the same load runs for {@code warmup} seconds (not recorded) until its events are
 * published, and the first fifth of the window is not counted either.
 */
final class LatencyCase {

  private LatencyCase() {}

  static Map<String, Object> run(
      Settings settings, String topic, double rate, double seconds, double warmup) {
    return run(settings, topic, rate, seconds, warmup, 1);
  }

  /**
   * With {@code instances} applications in this JVM on one outbox table, each with its relay (the
   * slots split between them), transaction {@code n} running on instance {@code n % instances}: an
   * event then lands in a slot another instance holds as often as not, and that instance's relay
   * publishes it.
   */
  static Map<String, Object> run(
      Settings settings, String topic, double rate, double seconds, double warmup, int instances) {
    int total = (int) (rate * seconds);
    Timeline timeline = new Timeline(total + 1);
    int workers = 32;
    OutboxApp.acks = (event, nanos) -> timeline.acked(OrderEvent.parseN(event.payload()), nanos);
    List<OutboxApp.Running> apps = new ArrayList<>();
    try {
      for (int i = 0; i < instances; i++) {
        apps.add(OutboxApp.run(OutboxApp.properties(settings, "kafka", workers + 4, Map.of())));
      }
      OutboxApp.Running app = apps.get(0);
      app.warmUp(topic, 200);
      OpenLoop.warmUp(
          rate,
          warmup,
          workers,
          n -> apps.get((int) (n % instances)).businessTransaction(topic, n, 1, 10_000),
          () -> !Db.anyPending(app.dataSource));
      Child.emit("WINDOW-START");
      Map<String, Object> load =
          OpenLoop.run(
              rate,
              Duration.ofMillis((long) (seconds * 1000)),
              workers,
              n ->
                  timeline.committed(
                      n, apps.get((int) (n % instances)).businessTransaction(topic, n, 1, 10_000)));
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (timeline.ackedCount() < (long) load.get("completed") && System.nanoTime() < deadline) {
        sleep(20);
      }
      Child.emit("WINDOW-END");
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("rate", rate);
      out.put("load", load);
      out.put("latency", Pct.summary(timeline.latency(total / 5, total)));
      out.put("unacked", timeline.unacked(0, total));
      out.put("instances", instances);
      return out;
    } finally {
      apps.forEach(OutboxApp.Running::close);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }
}
