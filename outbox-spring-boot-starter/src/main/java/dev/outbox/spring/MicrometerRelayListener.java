package dev.outbox.spring;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.RelayListener;
import dev.outbox.store.OutboxRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer metrics of the outbox: {@code outbox.events.published}, {@code .retried}, {@code
 * .dead} counters and {@code outbox.publish.latency} (write to broker acknowledgement) tagged by
 * destination; {@code outbox.relay.failures}; gauges {@code outbox.events.pending}, {@code
 * outbox.events.dead.total} and {@code outbox.events.oldest.age} (seconds), read from the table at
 * most once per {@value #STATS_TTL_MILLIS} ms.
 */
final class MicrometerRelayListener implements RelayListener {

  static final long STATS_TTL_MILLIS = 5_000;

  private final MeterRegistry registry;
  private final OutboxRepository repository;
  private final Clock clock;
  private final Counter cycleFailures;
  private volatile OutboxRepository.Stats stats;
  private volatile long statsReadAt;

  MicrometerRelayListener(MeterRegistry registry, OutboxRepository repository, Clock clock) {
    this.registry = registry;
    this.repository = repository;
    this.clock = clock;
    this.cycleFailures =
        Counter.builder("outbox.relay.failures")
            .description("Relay cycles that failed as a whole (database or broker unreachable)")
            .register(registry);
    Gauge.builder("outbox.events.pending", this, l -> l.stats().pending())
        .description("Events waiting to be published")
        .register(registry);
    Gauge.builder("outbox.events.dead.total", this, l -> l.stats().dead())
        .description("Dead events kept in the table")
        .register(registry);
    Gauge.builder(
            "outbox.events.oldest.age",
            this,
            l ->
                l.stats()
                    .oldestPending()
                    .map(t -> Duration.between(t, clock.instant()).toMillis() / 1000.0)
                    .orElse(0.0))
        .baseUnit("seconds")
        .description("Age of the oldest pending event")
        .register(registry);
  }

  private OutboxRepository.Stats stats() {
    long now = System.currentTimeMillis();
    OutboxRepository.Stats current = stats;
    if (current == null || now - statsReadAt > STATS_TTL_MILLIS) {
      try {
        current = repository.stats();
        stats = current;
        statsReadAt = now;
      } catch (RuntimeException ex) {
        if (current == null) {
          return new OutboxRepository.Stats(0, 0, java.util.Optional.empty());
        }
      }
    }
    return current;
  }

  @Override
  public void published(OutboxEvent event, Duration sinceWrite) {
    Counter.builder("outbox.events.published")
        .tag("destination", event.destination())
        .register(registry)
        .increment();
    Timer.builder("outbox.publish.latency")
        .description("Time from writing an event to the broker's acknowledgement")
        .tag("destination", event.destination())
        .register(registry)
        .record(Math.max(0, sinceWrite.toNanos()), TimeUnit.NANOSECONDS);
  }

  @Override
  public void retried(OutboxEvent event, Throwable failure) {
    Counter.builder("outbox.events.retried")
        .tag("destination", event.destination())
        .register(registry)
        .increment();
  }

  @Override
  public void deadLettered(OutboxEvent event, Throwable failure, boolean deadLetterSent) {
    Counter.builder("outbox.events.dead")
        .tag("destination", event.destination())
        .tag("dead_letter_sent", Boolean.toString(deadLetterSent))
        .register(registry)
        .increment();
  }

  @Override
  public void cycleFailed(Throwable failure) {
    cycleFailures.increment();
  }
}
