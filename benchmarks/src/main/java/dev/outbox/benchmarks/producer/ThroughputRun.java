package dev.outbox.benchmarks.producer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The relay's drain pattern, one batch at a time: hand the records to the producer, request a flush
 * on the flush thread, wait for every acknowledgement. Batches of the configurations under test are
 * interleaved, so that whatever else runs on the machine slows all of them alike.
 */
final class ThroughputRun {

  /**
   * Events per second, producer JVM and broker CPU microseconds per event, and the cores other
   * processes used meanwhile.
   */
  record Result(
      double eventsPerSecond,
      double producerCpuMicros,
      double brokerCpuMicros,
      double otherCores) {}

  /** Totals over the batches of one configuration. */
  static final class Totals {
    private long events;
    private long nanos;
    private long producerCpuNanos;
    private long brokerCpuNanos;
    private double otherCoreNanos;

    Result result() {
      return new Result(
          events / (nanos / 1e9),
          producerCpuNanos / 1e3 / events,
          brokerCpuNanos / 1e3 / events,
          otherCoreNanos / nanos);
    }
  }

  private ThroughputRun() {}

  /** Sends one batch through {@code p} and adds its time and CPU to {@code totals}. */
  static void batch(
      ProducerUnderTest p, OrderPayloads payloads, int batch, long brokerPid, Totals totals)
      throws InterruptedException {
    AtomicReference<Exception> failure = new AtomicReference<>();
    CountDownLatch acks = new CountDownLatch(batch);
    CpuClock before = CpuClock.now(brokerPid);
    for (int i = 0; i < batch; i++) {
      p.producer()
          .send(
              payloads.forTopic(p.next(), p.topic()),
              (metadata, ex) -> {
                if (ex != null) {
                  failure.compareAndSet(null, ex);
                }
                acks.countDown();
              });
    }
    p.flusher().request();
    if (!acks.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("batch not acknowledged within 60 s");
    }
    CpuClock after = CpuClock.now(brokerPid);
    if (failure.get() != null) {
      throw new IllegalStateException("send failed", failure.get());
    }
    long nanos = after.wallNanos() - before.wallNanos();
    totals.events += batch;
    totals.nanos += nanos;
    totals.producerCpuNanos += after.producerNanos() - before.producerNanos();
    totals.brokerCpuNanos += after.brokerNanos() - before.brokerNanos();
    totals.otherCoreNanos += after.otherCoresSince(before) * nanos;
  }
}
