package dev.outbox.relay;

import dev.outbox.store.RelayStore;
import dev.outbox.store.RelayStore.Leases;
import dev.outbox.transport.Failures;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this relay instance's slot leases: renews them once per poll interval (one statement, which
 * is also the idle poll), rebalances when instances join or leave, and wakes the workers when its
 * slots hold events. While slots move (membership or ownership changed, or slots are still owed to
 * other instances) it renews every {@link RelayTiming#settleInterval()} instead, until the picture
 * has been stable for {@link RelayTiming#settleWindow()}: a slot given up by one instance is taken
 * by another within that short interval.
 */
final class LeaseKeeper {

  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  static final String COMPONENT = "leases";

  private final RelayStore store;
  private final String member;
  private final RelayTiming timing;
  private final SlotScheduler scheduler;
  private final RelayHealth health;
  private final Runnable wakeWorkers;
  private final LongSupplier nanoTime;
  private final String relay;
  private int lastOwned = -1;
  private int lastMembers = -1;
  private long settleUntil;

  LeaseKeeper(
      RelayStore store,
      String member,
      RelayTiming timing,
      SlotScheduler scheduler,
      RelayHealth health,
      Runnable wakeWorkers,
      LongSupplier nanoTime,
      String relay) {
    this.store = store;
    this.member = member;
    this.timing = timing;
    this.scheduler = scheduler;
    this.health = health;
    this.wakeWorkers = wakeWorkers;
    this.nanoTime = nanoTime;
    this.relay = relay;
    this.settleUntil = nanoTime.getAsLong();
  }

  /** One renewal (and rebalance if needed). Never throws: failures go to the health verdict. */
  void tick() {
    long started = nanoTime.getAsLong();
    try {
      Leases leases = store.renewLeases(member, timing.leaseTimeout());
      // Slots above the fair share are given up as soon as no local worker is on them.
      int excess = Math.max(0, leases.tokens().size() - leases.fairShare());
      List<Integer> retired = scheduler.retire(excess);
      RuntimeException rebalanceFailed = null;
      if (leases.unbalanced() || !retired.isEmpty()) {
        try {
          leases = store.rebalanceLeases(member, timing.leaseTimeout(), retired);
        } catch (RuntimeException ex) {
          // Whatever held the rebalance up (another instance that stopped answering in the middle
          // of its own rebalance holds the slot table until its session ends), the slots this
          // instance holds stay its own, and their workers go on: renewed again, as the database
          // has them now (a rebalance that failed after its commit did release or take slots)
          rebalanceFailed = ex;
          started = nanoTime.getAsLong();
          leases = store.renewLeases(member, timing.leaseTimeout());
        }
      }
      scheduler.update(leases.tokens(), started, timing.leaseTimeout());
      if (rebalanceFailed == null) {
        health.ok(COMPONENT);
      } else {
        health.failed(COMPONENT, rebalanceFailed);
      }
      boolean moving =
          leases.tokens().size() != lastOwned
              || leases.liveMembers() != lastMembers
              || !retired.isEmpty()
              || retired.size() < excess;
      if (moving) {
        settleUntil = started + timing.settleWindow().toNanos();
      }
      report(leases);
      if (leases.pending()) {
        wakeWorkers.run();
      } else {
        health.ok(RelayHealth.BROKER); // nothing waits in this instance's slots: nothing is kept
      }
    } catch (RuntimeException ex) {
      health.failed(COMPONENT, ex);
    }
  }

  /** How long to wait before the next {@link #tick()}. */
  Duration nextTick() {
    return nanoTime.getAsLong() - settleUntil < 0
        ? timing.settleInterval()
        : timing.renewInterval();
  }

  /** Gives every slot back, so other instances take over without waiting for the lease to end. */
  void leave() {
    scheduler.clear();
    try {
      store.leave(member);
      log.info("Outbox relay '{}' released its slots", relay);
    } catch (RuntimeException ex) {
      log.warn(
          "Outbox relay '{}' could not release its slots; other instances take them over when its"
              + " lease ends: {}",
          relay,
          Failures.describe(ex));
    }
  }

  private void report(Leases leases) {
    int owned = leases.tokens().size();
    if (owned != lastOwned || leases.liveMembers() != lastMembers) {
      log.info(
          "Outbox relay '{}' holds {} of {} slots ({} relay instance(s) alive)",
          relay,
          owned,
          RelayStore.SLOTS,
          leases.liveMembers());
      lastOwned = owned;
      lastMembers = leases.liveMembers();
    }
  }
}
