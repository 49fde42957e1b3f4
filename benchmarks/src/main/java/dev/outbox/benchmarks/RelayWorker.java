package dev.outbox.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.OutboxEvent;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.rabbit.RabbitOutboxTransport;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.PostgresWakeups;
import dev.outbox.transport.OutboxTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * A relay instance in a JVM of its own (B4-B7): the library's relay with its defaults on its own
 * pool, publishing to Kafka or RabbitMQ. Driven over stdin by the suite: {@code GO} starts the
 * relay, {@code MARK} starts the counting window, {@code STOP} stops it and prints the result. It
 * prints its progress, so the suite knows when a backlog is drained without querying the table.
 */
final class RelayWorker {

  static final String WARM_UP = "bench-warmup";

  private final AtomicLong published = new AtomicLong();
  private volatile long firstMillis;
  private volatile long lastMillis;
  private volatile long maxHeapUsed;
  private volatile long maxHeapAfterGc;

  static void main(Settings settings, Map<String, String> args) throws Exception {
    new RelayWorker().run(settings, args);
  }

  private void run(Settings settings, Map<String, String> args) throws Exception {
    String transportName = args.getOrDefault("transport", "kafka");
    HikariDataSource pool = Db.pool(settings, "relay", OutboxDefaults.WORKERS + 3);
    CountingDataSource counting = new CountingDataSource(pool);
    DataSource dataSource = counting.dataSource;
    CachingConnectionFactory rabbit = null;
    OutboxTransport transport;
    if (transportName.equals("rabbit")) {
      rabbit = Brokers.rabbitConnectionFactory(settings);
      transport = Brokers.rabbitTransport(rabbit);
    } else {
      Map<String, Object> producer = new java.util.HashMap<>();
      if (args.containsKey("linger")) {
        producer.put("linger.ms", args.get("linger"));
      }
      if (args.containsKey("batchBytes")) {
        producer.put("batch.size", args.get("batchBytes"));
      }
      transport = Brokers.kafkaTransport(settings, producer);
    }
    TimedRepository timed =
        new TimedRepository(new PostgresOutboxRepository(dataSource, Db.OUTBOX));
    AtomicReference<OutboxRelay> self = new AtomicReference<>();
    // As the Spring starter wires it: LISTEN/NOTIFY wakes the relays of other instances.
    PostgresWakeups wakeups = new PostgresWakeups(dataSource, Db.OUTBOX, () -> self.get().wakeUp());
    OutboxRelay relay =
        OutboxRelay.builder()
            .repository(timed)
            .transport(transport)
            .listener(
                new RelayListener() {
                  @Override
                  public void published(OutboxEvent event, Duration sinceWrite) {
                    long now = System.currentTimeMillis();
                    if (published.getAndIncrement() == 0) {
                      firstMillis = now;
                    }
                    lastMillis = now;
                  }
                })
            .batchSize(
                Integer.parseInt(
                    args.getOrDefault("relayBatch", String.valueOf(OutboxDefaults.BATCH_SIZE))))
            .onBacklog(wakeups::signal)
            .name("relay-" + args.getOrDefault("instance", "1"))
            .build();
    self.set(relay);
    // The idle case (B5) runs without the sampler, so its CPU figure is the relay's own.
    if (Boolean.parseBoolean(args.getOrDefault("sampleHeap", "true"))) {
      Thread sampler = new Thread(this::sampleHeap, "heap-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    warmUp(transport, rabbit);
    Child.emit("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    long startMillis = 0;
    long markNanos = 0;
    long markCpu = 0;
    long markStatements = 0;
    long markCommits = 0;
    long markRollbacks = 0;
    Thread progress = null;
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.equals("GO")) {
        startMillis = System.currentTimeMillis();
        wakeups.start(true);
        relay.start();
        progress = new Thread(this::reportProgress, "progress");
        progress.setDaemon(true);
        progress.start();
      } else if (line.equals("MARK")) {
        markNanos = System.nanoTime();
        markCpu = os.getProcessCpuTime();
        markStatements = counting.statements.get();
        markCommits = counting.commits.get();
        markRollbacks = counting.rollbacks.get();
        Child.emit("MARKED");
      } else if (line.equals("STOP")) {
        break;
      }
    }
    long endNanos = System.nanoTime();
    long cpu = os.getProcessCpuTime();
    relay.stop(Duration.ofSeconds(10));
    relay.close();
    wakeups.close();
    if (transport instanceof KafkaOutboxTransport kafka) {
      kafka.close();
    }
    if (transport instanceof RabbitOutboxTransport rabbitTransport) {
      rabbitTransport.close();
    }
    if (rabbit != null) {
      rabbit.destroy();
    }
    pool.close();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("published", published.get());
    out.put("startMillis", startMillis);
    out.put("firstMillis", firstMillis);
    out.put("lastMillis", lastMillis);
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
    out.put("relayCycles", timed.summary());
    out.put("gcMillis", gcMillis);
    if (markNanos != 0) {
      double seconds = (endNanos - markNanos) / 1e9;
      out.put("windowSeconds", TxCostCase.round(seconds));
      out.put(
          "statementsPerSecond",
          TxCostCase.round((counting.statements.get() - markStatements) / seconds));
      out.put(
          "commitsPerSecond", TxCostCase.round((counting.commits.get() - markCommits) / seconds));
      out.put(
          "rollbacksPerSecond",
          TxCostCase.round((counting.rollbacks.get() - markRollbacks) / seconds));
      out.put("cpuPercent", TxCostCase.round(100.0 * (cpu - markCpu) / 1e9 / seconds));
    }
    Child.result(out);
  }

  /**
   * Sends one event to a warm-up destination before the start signal, so that the drain measures
   * the relay rather than the producer's first connection (the Modulith side is warm as well).
   */
  private static void warmUp(OutboxTransport transport, CachingConnectionFactory rabbit)
      throws Exception {
    if (rabbit != null) {
      Brokers.rabbitTopology(rabbit, WARM_UP);
    }
    OrderEvent event = OrderEvent.of(0, 1);
    for (int attempt = 1; ; attempt++) {
      try {
        transport
            .send(
                new OutboxEvent(
                    dev.outbox.EventIds.next(),
                    0,
                    WARM_UP,
                    event.orderId(),
                    "Order",
                    OrderEvent.TOPIC_TYPE,
                    1,
                    Library.serializer().serialize(event),
                    Map.of(),
                    java.time.Instant.now(),
                    0))
            .get(60, java.util.concurrent.TimeUnit.SECONDS);
        return;
      } catch (Exception ex) {
        if (attempt >= 10) {
          throw ex;
        }
        Thread.sleep(500);
      }
    }
  }

  private void reportProgress() {
    long last = -1;
    while (true) {
      long now = published.get();
      if (now != last) {
        Child.emit("PROGRESS " + now);
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
