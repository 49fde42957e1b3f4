package dev.outbox.benchmarks.producer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Measures the outbox producer's throughput (relay drain pattern) and send-to-ack latency (open
 * loop, one record at a time) for several {@code linger.ms} / {@code batch.size} / {@code
 * compression.type} settings against a broker of its own. Every configuration has its own producer
 * and topic (6 partitions) for the whole run; throughput batches of the configurations are
 * interleaved one by one and latency runs are interleaved per repetition, so that load from other
 * processes on the machine falls on all configurations alike. Prints one line per configuration and
 * repetition, and a Markdown table of medians (min–max) at the end; appends the lines to {@code
 * bench.out}.
 *
 * <p>System properties: {@code bench.cases} (e.g. {@code 0/131072/none;5/131072/lz4}; append {@code
 * /throughput} to skip a configuration's latency runs), {@code bench.reps} (3), {@code bench.count}
 * (records per configuration and repetition in the throughput runs, 200000), {@code bench.batch}
 * (1000), {@code bench.latency-seconds} (10 per rate, configuration and repetition), {@code
 * bench.rates} (200,1000), {@code bench.libs} (the broker jars, benchmarks/.work/kafka/libs),
 * {@code bench.port} (29092), {@code bench.controller-port} (29093), {@code bench.out}
 * (producer-defaults.tsv).
 */
public final class ProducerDefaultsBench {

  private static final String DEFAULT_CASES =
      "0/131072/none;1/131072/none;5/131072/none;0/16384/none/throughput;0/65536/none/throughput;"
          + "0/262144/none/throughput;0/131072/lz4;0/131072/zstd";

  private static final int PARTITIONS = 6;

  private ProducerDefaultsBench() {}

  public static void main(String[] args) throws Exception {
    List<ProducerConfigCase> cases =
        Arrays.stream(System.getProperty("bench.cases", DEFAULT_CASES).split(";"))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .map(ProducerConfigCase::parse)
            .toList();
    int reps = Integer.getInteger("bench.reps", 3);
    int count = Integer.getInteger("bench.count", 200_000);
    int batch = Integer.getInteger("bench.batch", 1000);
    int seconds = Integer.getInteger("bench.latency-seconds", 10);
    int[] rates =
        Arrays.stream(System.getProperty("bench.rates", "200,1000").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    Path libs = Path.of(System.getProperty("bench.libs", "benchmarks/.work/kafka/libs"));
    Path out = Path.of(System.getProperty("bench.out", "producer-defaults.tsv"));

    OrderPayloads payloads = OrderPayloads.generate("unused", 50_000, 42);
    System.out.printf(
        "%s  %d cases x %d reps; %d records per throughput run in batches of %d; value %.0f bytes;"
            + " %d s per latency run%n",
        Instant.now(), cases.size(), reps, count, batch, payloads.averageValueBytes(), seconds);

    try (StandaloneBroker broker =
            StandaloneBroker.start(
                libs,
                Integer.getInteger("bench.port", 29092),
                Integer.getInteger("bench.controller-port", 29093));
        Admin admin =
            Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap()))) {
      List<ProducerUnderTest> producers = new ArrayList<>();
      try {
        for (ProducerConfigCase c : cases) {
          String topic = "bench-" + c.topicSuffix();
          TopicReady.create(admin, topic, PARTITIONS);
          ProducerUnderTest p = ProducerUnderTest.open(c, broker.bootstrap(), topic);
          TopicReady.probe(p.producer(), topic, PARTITIONS);
          producers.add(p);
        }
        List<RunResult> results =
            measure(producers, payloads, reps, count / batch, batch, rates, seconds, broker.pid());
        for (RunResult r : results) {
          Files.writeString(
              out, r.tsv() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        System.out.println();
        System.out.println(ResultTable.markdown(cases, rates, results));
      } finally {
        producers.forEach(ProducerUnderTest::close);
      }
    }
  }

  private static List<RunResult> measure(
      List<ProducerUnderTest> producers,
      OrderPayloads payloads,
      int reps,
      int batches,
      int batch,
      int[] rates,
      int seconds,
      long brokerPid)
      throws InterruptedException {
    System.out.println("warm-up (not recorded)");
    ThroughputRun.Totals ignored = new ThroughputRun.Totals();
    for (int round = 0; round < 50; round++) {
      for (ProducerUnderTest p : producers) {
        ThroughputRun.batch(p, payloads, batch, brokerPid, ignored);
      }
    }
    List<RunResult> results = new ArrayList<>();
    for (int rep = 1; rep <= reps; rep++) {
      double load = CpuClock.loadAverage();
      Map<ProducerUnderTest, ThroughputRun.Totals> totals = new LinkedHashMap<>();
      producers.forEach(p -> totals.put(p, new ThroughputRun.Totals()));
      for (int round = 0; round < batches; round++) {
        for (ProducerUnderTest p : producers) {
          ThroughputRun.batch(p, payloads, batch, brokerPid, totals.get(p));
        }
      }
      Map<ProducerUnderTest, List<LatencyRun.Result>> latencies = new LinkedHashMap<>();
      producers.forEach(p -> latencies.put(p, new ArrayList<>()));
      for (int rate : rates) {
        // rotate the order per repetition, so no configuration always runs first
        for (int i = 0; i < producers.size(); i++) {
          ProducerUnderTest p = producers.get((i + rep) % producers.size());
          if (p.config().latency()) {
            latencies.get(p).add(LatencyRun.run(p, payloads, rate, seconds, brokerPid));
          }
        }
      }
      load = Math.max(load, CpuClock.loadAverage());
      for (ProducerUnderTest p : producers) {
        RunResult r =
            new RunResult(p.config(), "r" + rep, totals.get(p).result(), latencies.get(p), load);
        results.add(r);
        System.out.println(r.line());
      }
    }
    return results;
  }

  /** One repetition of one configuration. */
  record RunResult(
      ProducerConfigCase config,
      String run,
      ThroughputRun.Result throughput,
      List<LatencyRun.Result> latencies,
      double load) {

    /** The most cores other processes used during any part of this repetition. */
    double otherCores() {
      return latencies.stream()
          .mapToDouble(LatencyRun.Result::otherCores)
          .reduce(throughput.otherCores(), Math::max);
    }

    String line() {
      StringBuilder s =
          new StringBuilder(
              String.format(
                  "%-32s %-3s %7.0f ev/s  cpu %5.1f us/ev (broker %5.1f; others %.2f cores)",
                  config.label(),
                  run,
                  throughput.eventsPerSecond(),
                  throughput.producerCpuMicros(),
                  throughput.brokerCpuMicros(),
                  throughput.otherCores()));
      for (LatencyRun.Result l : latencies) {
        s.append(
            String.format(
                "  | %4.0f/s p50 %5.2f p99 %6.2f ms (others %.2f)",
                l.achievedPerSecond(), l.p50Ms(), l.p99Ms(), l.otherCores()));
      }
      s.append(String.format("  | load %.2f", load));
      return s.toString();
    }

    String tsv() {
      StringBuilder s =
          new StringBuilder(
              String.join(
                  "\t",
                  Instant.now().toString(),
                  String.valueOf(config.lingerMs()),
                  String.valueOf(config.batchSize()),
                  config.compression(),
                  run,
                  String.format("%.0f", throughput.eventsPerSecond()),
                  String.format("%.2f", throughput.producerCpuMicros()),
                  String.format("%.2f", throughput.brokerCpuMicros()),
                  String.format("%.2f", throughput.otherCores())));
      for (LatencyRun.Result l : latencies) {
        s.append(String.format("\t%.3f\t%.3f\t%.2f", l.p50Ms(), l.p99Ms(), l.otherCores()));
      }
      s.append(String.format("\t%.2f", load));
      return s.toString();
    }
  }
}
