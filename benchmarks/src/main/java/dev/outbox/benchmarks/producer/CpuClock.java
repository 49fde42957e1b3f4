package dev.outbox.benchmarks.producer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time at a point: of this JVM, of the broker process, and of the whole machine (busy, from
 * {@code /proc/stat}); the difference shows how much CPU other processes took during a run.
 */
record CpuClock(long producerNanos, long brokerNanos, long machineNanos, long wallNanos) {

  private static final long NANOS_PER_TICK = 10_000_000L;

  static CpuClock now(long brokerPid) {
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new CpuClock(
        os.getProcessCpuTime(), processNanos(brokerPid), machineBusyNanos(), System.nanoTime());
  }

  /** Cores used by processes other than this JVM and the broker between {@code start} and this. */
  double otherCoresSince(CpuClock start) {
    long others =
        (machineNanos - start.machineNanos)
            - (producerNanos - start.producerNanos)
            - (brokerNanos - start.brokerNanos);
    return Math.max(0, others) / (double) (wallNanos - start.wallNanos);
  }

  /** The 1-minute load average (which includes this benchmark's own two processes). */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException ex) {
      return -1;
    }
  }

  private static long machineBusyNanos() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      // cpu user nice system idle ...: time spent for processes (interrupts, which loopback
      // networking of this benchmark itself causes, are not counted)
      return (Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3])) * NANOS_PER_TICK;
    } catch (IOException | RuntimeException ex) {
      return 0;
    }
  }

  private static long processNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;
    } catch (IOException | RuntimeException ex) {
      return 0;
    }
  }
}
