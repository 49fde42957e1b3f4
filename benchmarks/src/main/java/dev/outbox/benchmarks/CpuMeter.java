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
 *
 * <p>Of the benchmark JVMs' time, the share of their JIT compiler threads ({@code C1/C2
 * CompilerThread*} in {@code /proc/<pid>/task}) is reported apart: a JVM started for a case
 * compiles the relay's code while it drains, and several JVMs compile it once each. HotSpot may end
 * a compiler thread it started for a burst of work; the time of one that ended during the window is
 * lost, so that figure is a lower bound.
 */
final class CpuMeter {

  private static final double TICKS = 100.0;

  /** The group of the benchmark JVMs' compiler threads (also counted in "benchmark JVM"). */
  static final String JIT = "JIT compilers";

  private final List<Long> jvms;
  private final long kafkaPid;
  private final Map<Long, Double> startByPid = new java.util.HashMap<>();
  private final Map<Long, Double> startByCompilerThread = new java.util.HashMap<>();
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
    groups.put(JIT, 0.0);
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
                String comm = comm(stat);
                double cpu = cpu(stat);
                String group = null;
                if (jvms.contains(pid)) {
                  group = "benchmark JVM";
                  groups.merge(JIT, compilerThreads(p), Double::sum);
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

  /** CPU seconds of the JVM's compiler threads since the start sample (0 for the start sample). */
  private double compilerThreads(Path process) {
    double sum = 0;
    try (Stream<Path> tasks = Files.list(process.resolve("task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException | RuntimeException ex) {
          continue;
        }
        if (!comm(stat).contains("CompilerThre")) {
          continue;
        }
        long tid = Long.parseLong(task.getFileName().toString());
        double cpu = cpu(stat);
        if (recordStart) {
          startByCompilerThread.put(tid, cpu);
        } else {
          sum += cpu - startByCompilerThread.getOrDefault(tid, 0.0);
        }
      }
    } catch (IOException | RuntimeException ex) {
      // the JVM ended while being read: what was summed so far is all there is
    }
    return sum;
  }

  private static String comm(String stat) {
    return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  }

  /** utime + stime in seconds. */
  private static double cpu(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS;
  }
}
