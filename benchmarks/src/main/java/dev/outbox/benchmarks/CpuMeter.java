package dev.outbox.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of the processes taking part in a case, read from {@code /proc}: the benchmark JVMs,
 * PostgreSQL (all its processes), the Kafka broker and RabbitMQ. Shows where the two cores go.
 */
final class CpuMeter {

  private static final double TICKS = 100.0;

  private final List<Long> jvms;
  private final long kafkaPid;
  private final Map<Long, Double> startByPid = new java.util.HashMap<>();
  private final Map<String, Double> start;
  private final long startNanos;
  private boolean recordStart;

  CpuMeter(List<Long> jvms, long kafkaPid) {
    this.jvms = jvms;
    this.kafkaPid = kafkaPid;
    this.recordStart = true;
    this.start = sample();
    this.recordStart = false;
    this.startNanos = System.nanoTime();
  }

  /** Cores used per group since this meter was made (1.0 = one core busy all the time). */
  Map<String, Object> cores() {
    Map<String, Double> end = sample();
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    Map<String, Object> out = new LinkedHashMap<>();
    for (String group : end.keySet()) {
      double used = end.get(group);
      out.put(group, Math.round(used / seconds * 100) / 100.0);
    }
    return out;
  }

  private Map<String, Double> sample() {
    Map<String, Double> groups = new LinkedHashMap<>();
    groups.put("benchmark JVM", 0.0);
    groups.put("PostgreSQL", 0.0);
    groups.put("Kafka", 0.0);
    groups.put("RabbitMQ", 0.0);
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs
          .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
          .forEach(
              p -> {
                long pid = Long.parseLong(p.getFileName().toString());
                String stat;
                try {
                  stat = Files.readString(p.resolve("stat"));
                } catch (IOException | RuntimeException ex) {
                  return;
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String comm = stat.substring(open + 1, close);
                String[] fields = stat.substring(close + 2).split(" ");
                double cpu = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS;
                String group = null;
                if (jvms.contains(pid)) {
                  group = "benchmark JVM";
                } else if (pid == kafkaPid) {
                  group = "Kafka";
                } else if (comm.equals("postgres")) {
                  group = "PostgreSQL";
                } else if (comm.equals("beam.smp")) {
                  group = "RabbitMQ";
                }
                if (group != null) {
                  // A process that ended during the window drops out of both samples; one that
                  // started during it counts from zero.
                  if (recordStart) {
                    startByPid.put(pid, cpu);
                    groups.merge(group, cpu, Double::sum);
                  } else {
                    groups.merge(group, cpu - startByPid.getOrDefault(pid, 0.0), Double::sum);
                  }
                }
              });
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
    return groups;
  }
}
