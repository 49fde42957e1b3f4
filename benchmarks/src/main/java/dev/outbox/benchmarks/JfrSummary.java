package dev.outbox.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Summarises the execution samples of a JFR recording ({@code jfr print --events
 * jdk.ExecutionSample}): the share of samples per top frame, and per code area (the first frame of
 * the stack that belongs to a known library: our code, the PostgreSQL driver, the Kafka client,
 * ...), so a missed target can be explained from measurements.
 */
final class JfrSummary {

  private JfrSummary() {}

  static Map<String, Object> summarise(Path recording, int top) {
    Map<String, Integer> leaf = new HashMap<>();
    Map<String, Integer> area = new HashMap<>();
    Map<String, Integer> library = new HashMap<>();
    int samples = 0;
    Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
    List<String> stack = new ArrayList<>();
    try {
      Process process =
          new ProcessBuilder(
                  jfr.toString(),
                  "print",
                  "--stack-depth",
                  "64",
                  "--events",
                  "jdk.ExecutionSample",
                  recording.toString())
              .redirectErrorStream(true)
              .start();
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        boolean inStack = false;
        while ((line = in.readLine()) != null) {
          String trimmed = line.trim();
          if (trimmed.startsWith("stackTrace = [")) {
            inStack = true;
            stack.clear();
          } else if (inStack && trimmed.startsWith("]")) {
            inStack = false;
            if (!stack.isEmpty()) {
              samples++;
              leaf.merge(stack.get(0), 1, Integer::sum);
              area.merge(area(stack), 1, Integer::sum);
              for (String frame : stack) {
                if (frame.startsWith("dev.outbox.")
                    && !frame.startsWith("dev.outbox.benchmarks.")) {
                  library.merge(frame, 1, Integer::sum);
                  break;
                }
              }
            }
          } else if (inStack && !trimmed.equals("...")) {
            int paren = trimmed.indexOf('(');
            stack.add(paren > 0 ? trimmed.substring(0, paren) : trimmed);
          }
        }
      }
      process.waitFor();
    } catch (IOException ex) {
      throw new IllegalStateException("Could not read " + recording, ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("samples", samples);
    out.put("areas", shares(area, samples, top));
    out.put("topFrames", shares(leaf, samples, top));
    out.put("libraryFrames", shares(library, samples, top));
    return out;
  }

  private static String area(List<String> stack) {
    for (String frame : stack) {
      String a = areaOf(frame);
      if (a != null) {
        return a;
      }
    }
    return "JDK / JVM (" + stack.get(0) + ")";
  }

  private static String areaOf(String frame) {
    if (frame.startsWith("org.postgresql.")) {
      return "PostgreSQL JDBC driver";
    }
    if (frame.startsWith("org.apache.kafka.")) {
      return "Kafka client";
    }
    if (frame.startsWith("org.springframework.kafka.")) {
      return "Spring Kafka";
    }
    if (frame.startsWith("com.rabbitmq.") || frame.startsWith("org.springframework.amqp.")) {
      return "RabbitMQ client / Spring AMQP";
    }
    if (frame.startsWith("tools.jackson.") || frame.startsWith("com.fasterxml.")) {
      return "Jackson";
    }
    if (frame.startsWith("com.zaxxer.hikari.")) {
      return "HikariCP";
    }
    if (frame.startsWith("org.HdrHistogram.") || frame.startsWith("dev.outbox.benchmarks.")) {
      return "benchmark harness";
    }
    if (frame.startsWith("dev.outbox.")) {
      return "outbox library";
    }
    if (frame.startsWith("org.springframework.modulith.")) {
      return "Spring Modulith";
    }
    if (frame.startsWith("org.springframework.")) {
      return "Spring Framework";
    }
    return null;
  }

  private static List<Map<String, Object>> shares(Map<String, Integer> counts, int total, int top) {
    return counts.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .limit(top)
        .map(
            e -> {
              Map<String, Object> row = new LinkedHashMap<>();
              row.put("what", e.getKey());
              row.put("percent", Math.round(1000.0 * e.getValue() / Math.max(1, total)) / 10.0);
              return row;
            })
        .toList();
  }
}
