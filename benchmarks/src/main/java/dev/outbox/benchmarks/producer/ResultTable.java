package dev.outbox.benchmarks.producer;

import java.util.List;
import java.util.function.ToDoubleFunction;

/** The Markdown table of medians (min–max) over the repetitions of each configuration. */
final class ResultTable {

  private ResultTable() {}

  static String markdown(
      List<ProducerConfigCase> cases, int[] rates, List<ProducerDefaultsBench.RunResult> results) {
    StringBuilder s = new StringBuilder("| linger.ms | batch.size | compression | events/s |");
    s.append(" producer CPU µs/event | broker CPU µs/event |");
    for (int rate : rates) {
      s.append(" p50 / p99 ms at ").append(rate).append("/s |");
    }
    s.append(" max load | other processes, cores |\n|---|---|---|---|---|---|");
    s.append("---|".repeat(rates.length)).append("---|---|\n");
    for (ProducerConfigCase c : cases) {
      List<ProducerDefaultsBench.RunResult> runs =
          results.stream().filter(r -> r.config().equals(c)).toList();
      if (runs.isEmpty()) {
        continue;
      }
      s.append("| ")
          .append(c.lingerMs())
          .append(" | ")
          .append(c.batchSize())
          .append(" | ")
          .append(c.compression())
          .append(" | ")
          .append(range(runs, r -> r.throughput().eventsPerSecond(), "%,.0f"))
          .append(" | ")
          .append(median(runs, r -> r.throughput().producerCpuMicros(), "%.1f"))
          .append(" | ")
          .append(median(runs, r -> r.throughput().brokerCpuMicros(), "%.1f"))
          .append(" |");
      for (int i = 0; i < rates.length; i++) {
        int index = i;
        if (!c.latency()) {
          s.append(" – |");
          continue;
        }
        s.append(' ')
            .append(range(runs, r -> r.latencies().get(index).p50Ms(), "%.2f"))
            .append(" / ")
            .append(range(runs, r -> r.latencies().get(index).p99Ms(), "%.2f"))
            .append(" |");
      }
      s.append(' ')
          .append(String.format("%.2f", runs.stream().mapToDouble(r -> r.load()).max().orElse(0)))
          .append(" | ")
          .append(
              String.format("%.2f", runs.stream().mapToDouble(r -> r.otherCores()).max().orElse(0)))
          .append(" |\n");
    }
    return s.toString();
  }

  private static String range(
      List<ProducerDefaultsBench.RunResult> runs,
      ToDoubleFunction<ProducerDefaultsBench.RunResult> value,
      String format) {
    double[] v = runs.stream().mapToDouble(value).sorted().toArray();
    return String.format(format, medianOf(v))
        + " ("
        + String.format(format, v[0])
        + "–"
        + String.format(format, v[v.length - 1])
        + ")";
  }

  private static String median(
      List<ProducerDefaultsBench.RunResult> runs,
      ToDoubleFunction<ProducerDefaultsBench.RunResult> value,
      String format) {
    return String.format(format, medianOf(runs.stream().mapToDouble(value).sorted().toArray()));
  }

  private static double medianOf(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
