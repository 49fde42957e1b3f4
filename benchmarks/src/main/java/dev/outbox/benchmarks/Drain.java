package dev.outbox.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import dev.outbox.OutboxEvent;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A relay instance in a JVM of its own (B4-B7): {@link OutboxApp} with the starter's relay,
 * publishing to Kafka or RabbitMQ. The context's start is held by {@link OutboxApp.StartGate} until
 * the suite sends {@code GO}; then {@code MARK} starts the counting window (B5) and {@code STOP}
 * closes the application and prints the result. It prints its progress (acknowledged events), so
 * the suite knows when a backlog is drained without querying the table.
 */
final class Drain {

  static final String WARM_UP = "bench-warmup";

  private final AtomicLong published = new AtomicLong();
  private volatile long firstMillis;
  private volatile long resumeMillis;
  private volatile long lastMillis;
  private volatile long maxHeapUsed;
  private volatile long maxHeapAfterGc;

  /** Acknowledged events sampled every 100 ms while any arrive: [millis since GO, count] pairs. */
  private final List<long[]> progress = Collections.synchronizedList(new ArrayList<>());

  static void main(Settings settings, Map<String, String> args) throws Exception {
    new Drain().run(settings, args);
  }

  private void acked(OutboxEvent event, long nanos) {
    if (event.destination().equals(WARM_UP)) {
      return;
    }
    long now = System.currentTimeMillis();
    if (published.getAndIncrement() == 0) {
      firstMillis = now;
    }
    lastMillis = now;
  }

  private void run(Settings settings, Map<String, String> args) throws Exception {
    String transport = args.getOrDefault("transport", "kafka");
    boolean idle = !Boolean.parseBoolean(args.getOrDefault("sampleHeap", "true"));
    Map<String, String> extra = new HashMap<>();
    extra.put("bench.gate", "true");
    extra.put("bench.count-statements", String.valueOf(idle));
    // Settings an application could set (spring.* / outbox.*), passed as given.
    args.forEach(
        (k, v) -> {
          if (k.startsWith("spring.") || k.startsWith("outbox.")) {
            extra.put(k, v);
          }
        });
    OutboxApp.acks = this::acked;
    // The idle case (B5) runs without the sampler, so its CPU figure is the application's own.
    if (!idle) {
      Thread sampler = new Thread(this::sampleHeap, "heap-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    // Blocks in StartGate until GO; the starter's relay starts right after it.
    OutboxApp.Running app = OutboxApp.run(OutboxApp.properties(settings, transport, 0, extra));
    long startMillis = OutboxApp.goMillis;
    Thread reporter = new Thread(this::reportProgress, "progress");
    reporter.setDaemon(true);
    reporter.start();
    long markNanos = 0;
    long markCpu = 0;
    long markStatements = 0;
    long markCommits = 0;
    long markRollbacks = 0;
    CountingDataSource counting = OutboxApp.counting;
    String line;
    while ((line = Child.STDIN.readLine()) != null) {
      line = line.trim();
      if (line.equals("MARK")) {
        markNanos = System.nanoTime();
        markCpu = os.getProcessCpuTime();
        if (counting != null) {
          markStatements = counting.statements.get();
          markCommits = counting.commits.get();
          markRollbacks = counting.rollbacks.get();
        }
        Child.emit("MARKED");
      } else if (line.equals("PAUSE")) {
        app.relay().stop(Duration.ofSeconds(30));
        Child.emit("PAUSED");
      } else if (line.equals("RESUME")) {
        resumeMillis = System.currentTimeMillis();
        app.relay().start();
      } else if (line.equals("STOP")) {
        break;
      }
    }
    long endNanos = System.nanoTime();
    long cpu = os.getProcessCpuTime();
    boolean relayWasRunning = app.relay().isRunning();
    app.close();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("published", published.get());
    out.put("startMillis", startMillis);
    out.put("firstMillis", firstMillis);
    out.put("resumeMillis", resumeMillis);
    out.put("lastMillis", lastMillis);
    out.put("relayWasRunning", relayWasRunning);
    synchronized (progress) {
      out.put("progress", List.copyOf(progress));
    }
    out.put("maxHeapUsedMb", mb(maxHeapUsed));
    out.put("maxHeapAfterGcMb", mb(maxHeapAfterGc));
    out.put("heapMaxMb", mb(Runtime.getRuntime().maxMemory()));
    long gcs = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcs += Math.max(0, gc.getCollectionCount());
      gcMillis += Math.max(0, gc.getCollectionTime());
    }
    out.put("gcCount", gcs);
    out.put("gcMillis", gcMillis);
    if (markNanos != 0) {
      double seconds = (endNanos - markNanos) / 1e9;
      out.put("windowSeconds", TxCostCase.round(seconds));
      if (counting != null) {
        out.put(
            "statementsPerSecond",
            TxCostCase.round((counting.statements.get() - markStatements) / seconds));
        out.put(
            "commitsPerSecond", TxCostCase.round((counting.commits.get() - markCommits) / seconds));
        out.put(
            "rollbacksPerSecond",
            TxCostCase.round((counting.rollbacks.get() - markRollbacks) / seconds));
      }
      out.put("cpuPercent", TxCostCase.round(100.0 * (cpu - markCpu) / 1e9 / seconds));
    }
    Child.result(out);
  }

  private void reportProgress() {
    long last = -1;
    while (true) {
      long now = published.get();
      if (now != last) {
        Child.emit("PROGRESS " + now);
        progress.add(new long[] {System.currentTimeMillis() - OutboxApp.goMillis, now});
        last = now;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException ex) {
        return;
      }
    }
  }

  private void sampleHeap() {
    while (true) {
      long used = 0;
      long afterGc = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          used += pool.getUsage().getUsed();
          if (pool.getCollectionUsage() != null) {
            afterGc += pool.getCollectionUsage().getUsed();
          }
        }
      }
      maxHeapUsed = Math.max(maxHeapUsed, used);
      maxHeapAfterGc = Math.max(maxHeapAfterGc, afterGc);
      try {
        Thread.sleep(20);
      } catch (InterruptedException ex) {
        return;
      }
    }
  }

  private static double mb(long bytes) {
    return Math.round(bytes / 1024.0 / 1024.0 * 10) / 10.0;
  }
}
