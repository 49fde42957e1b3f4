package dev.outbox.benchmarks.producer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * Open loop at a fixed rate, one record at a time, as a relay woken per commit sends: each record
 * is sent at its scheduled time and a flush is requested at once; send-to-acknowledgement time goes
 * into a histogram. Records of the first second are not recorded.
 */
final class LatencyRun {

  /**
   * Send-to-ack percentiles in milliseconds, the rate achieved, and the cores other processes used
   * meanwhile.
   */
  record Result(
      double p50Ms, double p99Ms, double achievedPerSecond, long samples, double otherCores) {}

  private LatencyRun() {}

  static Result run(
      ProducerUnderTest p, OrderPayloads payloads, int ratePerSecond, int seconds, long brokerPid)
      throws InterruptedException {
    CpuClock before = CpuClock.now(brokerPid);
    Recorder recorder = new Recorder(3);
    long interval = 1_000_000_000L / ratePerSecond;
    int warmup = ratePerSecond;
    int total = warmup + ratePerSecond * seconds;
    CountDownLatch acks = new CountDownLatch(total);
    AtomicLong failures = new AtomicLong();
    long start = System.nanoTime() + 10_000_000L;
    long measuredStart = 0;
    for (int i = 0; i < total; i++) {
      long due = start + i * interval;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      if (i == warmup) {
        measuredStart = System.nanoTime();
      }
      boolean record = i >= warmup;
      long sentAt = System.nanoTime();
      p.producer()
          .send(
              payloads.forTopic(p.next(), p.topic()),
              (metadata, ex) -> {
                if (ex != null) {
                  failures.incrementAndGet();
                } else if (record) {
                  recorder.recordValue(System.nanoTime() - sentAt);
                }
                acks.countDown();
              });
      p.flusher().request();
    }
    double achieved = (total - warmup) / ((System.nanoTime() - measuredStart) / 1e9);
    if (!acks.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("records not acknowledged within 60 s");
    }
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " sends failed");
    }
    var histogram = recorder.getIntervalHistogram();
    return new Result(
        histogram.getValueAtPercentile(50) / 1e6,
        histogram.getValueAtPercentile(99) / 1e6,
        achieved,
        histogram.getTotalCount(),
        CpuClock.now(brokerPid).otherCoresSince(before));
  }
}
