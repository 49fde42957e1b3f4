package dev.outbox.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Percentiles of a latency histogram recorded in microseconds, reported in milliseconds. */
final class Pct {

  private Pct() {}

  static Histogram micros() {
    return new Histogram(3_600_000_000L, 3);
  }

  static Map<String, Object> summary(Histogram histogram) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("count", histogram.getTotalCount());
    out.put("p50", ms(histogram.getValueAtPercentile(50)));
    out.put("p99", ms(histogram.getValueAtPercentile(99)));
    out.put("p999", ms(histogram.getValueAtPercentile(99.9)));
    out.put("max", ms(histogram.getMaxValue()));
    out.put("mean", Math.round(histogram.getMean()) / 1000.0);
    return out;
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }
}
