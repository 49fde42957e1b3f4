package dev.outbox.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A benchmark JVM started by the suite; its {@code BENCH} lines arrive on a queue. */
final class ChildProcess implements AutoCloseable {

  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private volatile String lastProgress = "0";

  /**
   * The {@code java} command of the application JVMs: {@code -Dbench.app-java} (another JDK's
   * {@code bin/java}, to compare JDKs on the same broker and database), else the suite's own.
   */
  static String java() {
    String java = System.getProperty("bench.app-java", "");
    return java.isBlank()
        ? Path.of(System.getProperty("java.home"), "bin", "java").toString()
        : java;
  }

  ChildProcess(List<String> jvmOptions, List<String> arguments, Path log) {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath(arguments.get(0).equals("modulith")));
    for (String key : List.of("bench.jdbc-url", "bench.kafka", "bench.rabbit-host")) {
      String value = System.getProperty(key);
      if (value != null) {
        command.add("-D" + key + "=" + value);
      }
    }
    // Library and producer settings given to the suite (-Doutbox.relay.workers=4,
    // -Dspring.kafka.producer.compression-type=none ...) reach every application.
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("outbox.") || key.startsWith("spring.kafka.producer.")) {
        command.add("-D" + key + "=" + System.getProperty(key));
      }
    }
    command.add(Child.class.getName());
    command.addAll(arguments);
    try {
      process =
          new ProcessBuilder(command)
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException ex) {
      throw new IllegalStateException("Could not start " + command, ex);
    }
    stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  if (!line.startsWith("BENCH ")) {
                    continue;
                  }
                  String body = line.substring(6);
                  if (body.startsWith("PROGRESS ")) {
                    lastProgress = body.substring(9);
                  } else {
                    lines.add(body);
                  }
                }
              } catch (IOException ignored) {
                // the process ended
              }
              lines.add("EXIT");
            },
            "child-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * The suite's classpath for a benchmark JVM. The outbox applications run without Spring
   * Modulith's jars (an application using the outbox would not have them, and their
   * auto-configuration would add its own queries); the Modulith application keeps everything and
   * switches the outbox off by property.
   */
  static String classpath(boolean modulith) {
    String all = System.getProperty("java.class.path");
    if (modulith) {
      return all;
    }
    List<String> kept = new ArrayList<>();
    for (String entry : all.split(java.io.File.pathSeparator)) {
      if (!Path.of(entry).getFileName().toString().startsWith("spring-modulith-")) {
        kept.add(entry);
      }
    }
    return String.join(java.io.File.pathSeparator, kept);
  }

  /** SIGKILL: the JVM ends at once, as in a crash (no shutdown hooks, no graceful stop). */
  void kill() {
    process.destroyForcibly();
  }

  long pid() {
    return process.pid();
  }

  long progress() {
    return Long.parseLong(lastProgress);
  }

  /** Waits for a line starting with {@code prefix}; returns the rest of it. */
  String await(String prefix, long timeoutSeconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    try {
      while (true) {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new IllegalStateException("No '" + prefix + "' from the benchmark JVM in time");
        }
        if (line.equals("EXIT")) {
          throw new IllegalStateException(
              "The benchmark JVM ended before '" + prefix + "' (see benchmarks/.work/logs)");
        }
        if (line.startsWith(prefix)) {
          return line.substring(prefix.length()).trim();
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }

  void send(String command) {
    try {
      stdin.write(command + "\n");
      stdin.flush();
    } catch (IOException ex) {
      throw new IllegalStateException("Could not talk to the benchmark JVM", ex);
    }
  }

  @Override
  public void close() {
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
