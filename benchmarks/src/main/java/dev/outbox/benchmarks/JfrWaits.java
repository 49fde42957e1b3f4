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
 * Where the relay's threads wait, from the blocking events of a JFR recording (parks, socket reads,
 * monitor waits; JFR records those longer than 10 ms with the profile settings). Execution samples
 * miss this time; for a latency or a drain rate it is often where the time goes. Waits are grouped
 * by the innermost library frame (what the relay was doing) and the blocking frame.
 */
final class JfrWaits {

  private static final String EVENTS =
      "jdk.ThreadPark,jdk.SocketRead,jdk.JavaMonitorEnter,jdk.JavaMonitorWait,jdk.ThreadSleep";

  private JfrWaits() {}

  static List<Map<String, Object>> summarise(Path recording, String threadPart, int top) {
    Map<String, double[]> groups = new HashMap<>();
    Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
    try {
      Process process =
          new ProcessBuilder(
                  jfr.toString(),
                  "print",
                  "--stack-depth",
                  "40",
                  "--events",
                  EVENTS,
                  recording.toString())
              .redirectErrorStream(true)
              .start();
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        double millis = 0;
        String thread = "";
        List<String> stack = new ArrayList<>();
        boolean inStack = false;
        while ((line = in.readLine()) != null) {
          String t = line.trim();
          if (t.startsWith("jdk.") && t.endsWith("{")) {
            millis = 0;
            thread = "";
            stack.clear();
          } else if (t.startsWith("duration = ")) {
            millis = duration(t.substring(11));
          } else if (t.startsWith("eventThread = ")) {
            thread = t;
          } else if (t.startsWith("stackTrace = [")) {
            inStack = true;
          } else if (inStack && t.startsWith("]")) {
            inStack = false;
            if (thread.contains(threadPart) && !stack.isEmpty()) {
              double[] g = groups.computeIfAbsent(signature(stack), k -> new double[2]);
              g[0] += millis;
              g[1]++;
            }
          } else if (inStack && !t.equals("...")) {
            int paren = t.indexOf('(');
            stack.add(paren > 0 ? t.substring(0, paren) : t);
          }
        }
      }
      process.waitFor();
    } catch (IOException ex) {
      throw new IllegalStateException("Could not read " + recording, ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    return groups.entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
        .limit(top)
        .map(
            e -> {
              Map<String, Object> row = new LinkedHashMap<>();
              row.put("where", e.getKey());
              row.put("totalMs", Math.round(e.getValue()[0]));
              row.put("count", (long) e.getValue()[1]);
              return row;
            })
        .toList();
  }

  private static String signature(List<String> stack) {
    String blocking = shortName(stack.get(0));
    for (String frame : stack) {
      if (frame.startsWith("dev.outbox.")
          && !frame.startsWith("dev.outbox.benchmarks.")
          && !frame.equals(stack.get(0))) {
        String caller = shortName(frame);
        for (String inner : stack) {
          if (!inner.startsWith("java.")
              && !inner.startsWith("jdk.")
              && !inner.startsWith("sun.")) {
            blocking = shortName(inner);
            break;
          }
        }
        return caller + " → " + blocking;
      }
    }
    return blocking;
  }

  private static String shortName(String frame) {
    int method = frame.lastIndexOf('.');
    int type = frame.lastIndexOf('.', method - 1);
    return type >= 0 ? frame.substring(type + 1) : frame;
  }

  private static double duration(String text) {
    String[] parts = text.trim().split(" ");
    double value = Double.parseDouble(parts[0].replace(",", ""));
    return switch (parts.length > 1 ? parts[1] : "ms") {
      case "s" -> value * 1000;
      case "us" -> value / 1000;
      case "ns" -> value / 1_000_000;
      case "min" -> value * 60_000;
      default -> value;
    };
  }
}
