package dev.outbox.relay;

import dev.outbox.concurrent.Signal;
import dev.outbox.relay.BatchPublisher.Outcome;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One relay instance's engine, built from its parts as {@link OutboxRelay#start()} builds it, but
 * with no threads: the test calls {@link #tick()} and {@link #cycle()} itself, on the settable
 * clock. One worker, so its grant is every slot the instance holds.
 */
final class RelayNode {

  static final Duration POLL_INTERVAL = Duration.ofSeconds(1);
  static final Duration LEASE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Long on purpose: with the settable clock standing still, the only real waiting in a batch is
   * for an acknowledgement a test holds back, and the test releases it long before this.
   */
  static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(10);

  static final RetryPolicy RETRIES =
      RetryPolicy.defaults()
          .withMaxAttempts(3)
          .withInitialBackoff(Duration.ofSeconds(1))
          .withMultiplier(2)
          .withMaxBackoff(Duration.ofMinutes(1))
          .withJitter(0);

  final String member;
  final RelayTiming timing;
  final SlotScheduler scheduler;
  final HeldKeys heldKeys;
  final RelayHealth health;
  final LeaseKeeper keeper;
  final BatchPublisher publisher;
  final RelayWorker worker;
  final AtomicInteger wakeUps = new AtomicInteger();

  RelayNode(
      InMemoryOutboxRepository store,
      RecordingTransport transport,
      SettableClock clock,
      String member) {
    this(store, transport, clock, member, PUBLISH_TIMEOUT, RETRIES, 100);
  }

  RelayNode(
      InMemoryOutboxRepository store,
      RecordingTransport transport,
      SettableClock clock,
      String member,
      Duration publishTimeout,
      RetryPolicy retries,
      int batchSize) {
    this.member = member;
    this.timing =
        new RelayTiming(
            POLL_INTERVAL,
            publishTimeout,
            LEASE_TIMEOUT,
            Duration.ZERO,
            OutboxDefaults.MAX_ERROR_BACKOFF);
    this.scheduler = new SlotScheduler(1, clock.nanos());
    this.heldKeys = new HeldKeys(clock.nanos(), publishTimeout);
    this.health = new RelayHealth(member, clock, RelayListener.none());
    this.keeper =
        new LeaseKeeper(
            store,
            member,
            timing,
            scheduler,
            health,
            wakeUps::incrementAndGet,
            clock.nanos(),
            member);
    this.publisher =
        new BatchPublisher(
            store,
            transport,
            retries,
            timing,
            RelayListener.none(),
            clock,
            clock.nanos(),
            heldKeys,
            scheduler,
            member,
            batchSize);
    this.worker =
        new RelayWorker(
            "worker-1",
            new Signal(),
            scheduler,
            publisher,
            heldKeys,
            health,
            Duration.ofSeconds(1),
            () -> {});
    health.register(LeaseKeeper.COMPONENT);
    health.register(RelayHealth.BROKER);
  }

  void tick() {
    keeper.tick();
  }

  /** One batch on the worker's share of the slots; null when it was granted none. */
  @Nullable Outcome cycle() {
    scheduler.markDirty(dev.outbox.store.Slots.ALL); // as a wake-up for every slot does
    return worker.cycle();
  }

  int owned() {
    return scheduler.ownedCount();
  }
}
