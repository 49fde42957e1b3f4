package dev.outbox.spring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The meter table of {@code docs/operations.md}, as the tests that check against it read it. */
record DocumentedMeters(List<Meter> meters) {

  /** A documented meter: its Micrometer name, its Prometheus base name and its type. */
  record Meter(String name, String prometheus, String type) {

    /** The series names a Prometheus scrape shows for this meter. */
    List<String> series() {
      return SUFFIXES.get(type).stream().map(suffix -> prometheus + suffix).toList();
    }
  }

  /** What Prometheus appends to a meter's base name, by the documented type. */
  private static final Map<String, List<String>> SUFFIXES =
      Map.of(
          "counter", List.of("_total"),
          "gauge", List.of(""),
          "histogram", List.of("_bucket", "_count", "_sum", "_max"),
          "timer", List.of("_count", "_sum", "_max"),
          "summary", List.of("_count", "_sum", "_max"));

  private static final Pattern ROW =
      Pattern.compile(
          "^\\| `(outbox\\.[a-z.]+)` \\| `(outbox_[a-z_]+)` \\|"
              + " (counter|gauge|histogram|timer|summary)");

  /** Series names as they appear in PromQL or a scrape. */
  static final Pattern SERIES = Pattern.compile("\\boutbox_[a-z_]+\\b");

  static final Path DOCS = Path.of("..", "docs");

  static DocumentedMeters read() throws IOException {
    List<Meter> meters = new ArrayList<>();
    for (String line : Files.readAllLines(DOCS.resolve("operations.md"))) {
      Matcher row = ROW.matcher(line);
      if (row.find()) {
        meters.add(new Meter(row.group(1), row.group(2), row.group(3)));
      }
    }
    return new DocumentedMeters(List.copyOf(meters));
  }

  /** Every series name the documented meters show in a scrape. */
  Set<String> series() {
    Set<String> series = new TreeSet<>();
    meters.forEach(meter -> series.addAll(meter.series()));
    return series;
  }

  /** The outbox series names that {@code text} (PromQL, a scrape) mentions. */
  static Set<String> seriesIn(String text) {
    Set<String> found = new TreeSet<>();
    Matcher matcher = SERIES.matcher(text);
    while (matcher.find()) {
      found.add(matcher.group());
    }
    return found;
  }
}
