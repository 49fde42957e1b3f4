package dev.outbox.benchmarks;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the suite runs, from system properties ({@code benchmarks/run.sh} passes its options as
 * {@code -Dbench.*}). The defaults are the full run; {@code --quick} sets small values.
 */
record Plan(
    Set<String> cases,
    int runs,
    double b1Seconds,
    double b2Rate,
    double b2LowRate,
    double b2Seconds,
    double b2WarmUpSeconds,
    int b3Clients,
    int b3ClientsBatch,
    double b3Seconds,
    long b4Count,
    long b4SmallCount,
    long b4WarmUpCount,
    long b4RabbitCount,
    double b5Seconds,
    long b6Count,
    int b6Keys,
    boolean b6Failover,
    double modulithRate,
    double modulithSeconds,
    int modulithDrainCount,
    int modulithHighRateRuns,
    int keys,
    boolean profile,
    List<String> relayJvmOptions) {

  static final Set<String> ALL =
      new LinkedHashSet<>(
          Arrays.asList(
              "b1",
              "b2",
              "b3",
              "b5",
              "modulith",
              "b4-kafka-100k",
              "b4-kafka-100k-warm",
              "b4-kafka",
              "b6",
              "b6-warm",
              "b4-rabbit"));

  static Plan fromSystem() {
    String cases = System.getProperty("bench.cases", "all");
    Set<String> selected =
        cases.equals("all") ? ALL : new LinkedHashSet<>(Arrays.asList(cases.split(",")));
    return new Plan(
        selected,
        Integer.getInteger("bench.runs", 3),
        dbl("bench.b1-seconds", 10),
        dbl("bench.b2-rate", 1000),
        dbl("bench.b2-low-rate", 200),
        dbl("bench.b2-seconds", 15),
        dbl("bench.b2-warm-up-seconds", 10),
        Integer.getInteger("bench.b3-clients", 16),
        Integer.getInteger("bench.b3-clients-batch", 8),
        dbl("bench.b3-seconds", 10),
        Long.getLong("bench.b4-count", 1_000_000),
        Long.getLong("bench.b4-100k-count", 100_000),
        Long.getLong("bench.b4-warm-up-count", 200_000),
        Long.getLong("bench.b4-rabbit-count", 200_000),
        dbl("bench.b5-seconds", 15),
        Long.getLong("bench.b6-count", 150_000),
        Integer.getInteger("bench.b6-keys", 10_000),
        Boolean.parseBoolean(System.getProperty("bench.b6-failover", "true")),
        dbl("bench.modulith-rate", 200),
        dbl("bench.modulith-seconds", 15),
        Integer.getInteger("bench.modulith-drain-count", 10_000),
        Integer.getInteger("bench.modulith-high-rate-runs", 1),
        Integer.getInteger("bench.keys", 10_000),
        Boolean.parseBoolean(System.getProperty("bench.profile", "true")),
        // Extra options for the relay JVMs of B4, B6 and B7, comma-separated (e.g. a collector).
        Arrays.stream(System.getProperty("bench.relay-jvm-options", "").split(","))
            .filter(option -> !option.isBlank())
            .toList());
  }

  private static double dbl(String key, double fallback) {
    String value = System.getProperty(key);
    return value == null ? fallback : Double.parseDouble(value);
  }
}
