package dev.outbox.spring;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.RelayListener;
import dev.outbox.store.OutboxRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The outbox's Micrometer meters (the list, with their Prometheus names, is in {@code
 * docs/operations.md}). Tags are low-cardinality only: the destination, and whether a dead letter
 * reached the dead-letter target. The meters of a destination are built once and kept; the gauges
 * read the table at most once per {@value #STATS_TTL_MILLIS} ms.
 */
final class MicrometerRelayListener implements RelayListener {

  static final long STATS_TTL_MILLIS = 5_000;

  /** The {@code destination} tag of rows the relay could not decode. */
  static final String UNKNOWN_DESTINATION = "unknown";

  private static final Duration LATENCY_MIN = Duration.ofMillis(1);
  private static final Duration LATENCY_MAX = Duration.ofMinutes(10);

  private final MeterRegistry registry;
  private final OutboxRepository repository;
  private final Clock clock;
  private final Counter cycleFailures;
  private final Timer batches;
  private final DistributionSummary batchSizes;
  private final ConcurrentMap<String, DestinationMeters> destinations = new ConcurrentHashMap<>();
  private volatile OutboxRepository.Stats stats;
  private volatile long statsReadAt;

  MicrometerRelayListener(MeterRegistry registry, OutboxRepository repository, Clock clock) {
    this.registry = registry;
    this.repository = repository;
    this.clock = clock;
    this.cycleFailures =
        Counter.builder("outbox.relay.failures")
            .description("Relay steps that failed as a whole (database or broker unreachable)")
            .register(registry);
    this.batches =
        Timer.builder("outbox.relay.batch")
            .description("Relay batches: time from reading the candidates to recording outcomes")
            .register(registry);
    this.batchSizes =
        DistributionSummary.builder("outbox.relay.batch.size")
            .baseUnit("events")
            .description("Events sent per relay batch")
            .register(registry);
    Gauge.builder("outbox.events.pending", this, l -> l.stats().pending())
        .description("Events waiting to be published")
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
        .description("Age of the oldest event waiting to be published")
        .register(registry);
    Gauge.builder("outbox.events.dead.stored", this, l -> l.stats().dead())
        .description("Dead events kept in the table (replayable)")
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
          return new OutboxRepository.Stats(0, 0, Optional.empty());
        }
      }
    }
    return current;
  }

  private DestinationMeters meters(String destination) {
    DestinationMeters meters = destinations.get(destination);
    return meters != null
        ? meters
        : destinations.computeIfAbsent(destination, d -> new DestinationMeters(registry, d));
  }

  @Override
  public void published(OutboxEvent event, Duration sinceWrite) {
    DestinationMeters meters = meters(event.destination());
    meters.published.increment();
    meters.latency.record(Math.max(0, sinceWrite.toNanos()), TimeUnit.NANOSECONDS);
  }

  @Override
  public void retried(OutboxEvent event, Throwable failure) {
    DestinationMeters meters = meters(event.destination());
    meters.failed.increment();
    meters.retried.increment();
  }

  @Override
  public void deadLettered(OutboxEvent event, Throwable failure, boolean deadLetterSent) {
    DestinationMeters meters = meters(event.destination());
    meters.failed.increment();
    (deadLetterSent ? meters.deadSent : meters.deadNotSent).increment();
  }

  /**
   * A row the relay could not decode is set DEAD without a dead letter; its destination is not
   * known, so it counts under {@value #UNKNOWN_DESTINATION}.
   */
  @Override
  public void undecodable(UUID id, String reason) {
    meters(UNKNOWN_DESTINATION).deadNotSent.increment();
  }

  @Override
  public void batchCompleted(int attempted, Duration took) {
    batches.record(took);
    batchSizes.record(attempted);
  }

  @Override
  public void cycleFailed(Throwable failure) {
    cycleFailures.increment();
  }

  /** The meters of one destination, registered on first use. */
  private static final class DestinationMeters {
    final Counter published;
    final Counter failed;
    final Counter retried;
    final Counter deadSent;
    final Counter deadNotSent;
    final Timer latency;

    DestinationMeters(MeterRegistry registry, String destination) {
      published =
          Counter.builder("outbox.events.published")
              .description("Events acknowledged by the broker")
              .tag("destination", destination)
              .register(registry);
      failed =
          Counter.builder("outbox.events.failed")
              .description("Delivery attempts that failed and were charged to the event")
              .tag("destination", destination)
              .register(registry);
      retried =
          Counter.builder("outbox.events.retried")
              .description("Failed events scheduled for another attempt")
              .tag("destination", destination)
              .register(registry);
      deadSent = dead(registry, destination, true);
      deadNotSent = dead(registry, destination, false);
      latency =
          Timer.builder("outbox.publish.latency")
              .description("Time from writing an event to the broker's acknowledgement")
              .tag("destination", destination)
              .publishPercentileHistogram()
              .minimumExpectedValue(LATENCY_MIN)
              .maximumExpectedValue(LATENCY_MAX)
              .register(registry);
    }

    private static Counter dead(MeterRegistry registry, String destination, boolean sent) {
      return Counter.builder("outbox.events.dead")
          .description("Events that will not be tried again (DEAD in the table)")
          .tag("destination", destination)
          .tag("dead_letter_sent", Boolean.toString(sent))
          .register(registry);
    }
  }
}
