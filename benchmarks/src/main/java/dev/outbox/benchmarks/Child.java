package dev.outbox.benchmarks;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Entry point of every benchmark JVM the suite starts: {@code Child <case> key=value ...}. Talks to
 * the suite over stdout lines starting with {@code BENCH}; logs go to stderr.
 */
public final class Child {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final PrintStream OUT =
      new PrintStream(new FileOutputStream(FileDescriptor.out), true);

  /** The suite's commands ({@code GO}, {@code MARK}, {@code STOP}) for the relay JVMs. */
  static final BufferedReader STDIN =
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

  private Child() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = new HashMap<>();
    for (int i = 1; i < argv.length; i++) {
      int eq = argv[i].indexOf('=');
      args.put(argv[i].substring(0, eq), argv[i].substring(eq + 1));
    }
    Settings settings = Settings.fromSystem();
    if (!argv[0].equals("relay")) {
      exitWhenSuiteEnds();
    }
    switch (argv[0]) {
      case "b1" ->
          result(TxCostCase.run(settings, number(args, "seconds", 10), number(args, "warmup", 2)));
      case "latency" ->
          result(
              LatencyCase.run(
                  settings,
                  args.get("topic"),
                  number(args, "rate", 1000),
                  number(args, "seconds", 20),
                  number(args, "warmup", 10),
                  (int) number(args, "instances", 1)));
      case "throughput" ->
          result(
              ThroughputCase.run(
                  settings,
                  args.get("topic"),
                  (int) number(args, "clients", 16),
                  (int) number(args, "perTx", 1),
                  ThroughputCase.Mode.valueOf(
                      args.getOrDefault("mode", "outbox").toUpperCase(Locale.ROOT)),
                  number(args, "seconds", 10),
                  number(args, "warmup", 3)));
      case "relay" -> Drain.main(settings, args);
      case "schema" -> {
        // The starter creates the outbox table (outbox.migration.enabled, default true).
        try (OutboxApp.Running app =
            OutboxApp.run(OutboxApp.properties(settings, "kafka", 0, Map.of()))) {
          Child.emit("SCHEMA " + app.relay().isRunning());
        }
        result(Map.of("schema", "created by the starter"));
      }
      case "modulith" -> ModulithCase.main(settings, args);
      default -> throw new IllegalArgumentException("unknown case " + argv[0]);
    }
    System.exit(0);
  }

  /** Ends this JVM when the suite's end of the pipe closes (the suite ended or was killed). */
  private static void exitWhenSuiteEnds() {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // nothing is sent on stdin to these cases
                }
              } catch (java.io.IOException ignored) {
                // treated as the end of the suite
              }
              Runtime.getRuntime().halt(3);
            },
            "suite-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  private static double number(Map<String, String> args, String key, double fallback) {
    String value = args.get(key);
    return value == null ? fallback : Double.parseDouble(value);
  }

  static void emit(String line) {
    OUT.println("BENCH " + line);
  }

  static void result(Map<String, Object> result) {
    emit("RESULT " + JSON.writeValueAsString(result));
  }
}
