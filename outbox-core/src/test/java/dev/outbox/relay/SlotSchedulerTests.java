package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.relay.SlotScheduler.Grant;
import dev.outbox.store.Slots;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlotSchedulerTests {

  private static final Duration LEASE = Duration.ofSeconds(10);

  private final SettableClock clock = new SettableClock();

  /** Slots {@code 0..count-1}, slot {@code s} under token {@code 1000 + s}. */
  private static Map<Integer, Long> slots(int count) {
    Map<Integer, Long> tokens = new HashMap<>();
    for (int slot = 0; slot < count; slot++) {
      tokens.put(slot, 1000L + slot);
    }
    return tokens;
  }

  private SlotScheduler scheduler(int workers, int slots) {
    SlotScheduler scheduler = new SlotScheduler(workers, clock.nanos());
    scheduler.update(slots(slots), clock.nanoTime(), LEASE);
    return scheduler;
  }

  @Test
  void workerGetsAtMostItsShareAndNeverASlotBusyInAnotherWorker() {
    SlotScheduler scheduler = scheduler(3, 64);

    Grant first = scheduler.grab();
    Grant second = scheduler.grab();
    Grant third = scheduler.grab();

    assertThat(first.slots()).hasSize(22);
    assertThat(second.slots()).hasSize(22).doesNotContainAnyElementsOf(first.slots());
    assertThat(third.slots())
        .hasSize(20)
        .doesNotContainAnyElementsOf(first.slots())
        .doesNotContainAnyElementsOf(second.slots());
    assertThat(scheduler.grab().isEmpty()).as("every slot busy").isTrue();
    for (Grant grant : List.of(first, second, third)) {
      for (int i = 0; i < grant.slots().size(); i++) {
        assertThat(grant.tokens().get(i)).isEqualTo(1000L + grant.slots().get(i));
      }
    }

    scheduler.done(second, true);
    assertThat(scheduler.grab().slots()).containsExactlyInAnyOrderElementsOf(second.slots());
  }

  @Test
  void onlySlotsThatMayHoldEventsAreGranted() {
    SlotScheduler scheduler = scheduler(1, 8);
    scheduler.done(scheduler.grab(), false); // every slot read, none left with more
    assertThat(scheduler.grab().isEmpty()).as("nothing written since").isTrue();

    scheduler.markDirty(Slots.bit(3) | Slots.bit(5));
    assertThat(scheduler.grab().slots()).containsExactlyInAnyOrder(3, 5);
  }

  @Test
  void fewerSlotsThanWorkersGiveOneSlotPerGrant() {
    SlotScheduler scheduler = scheduler(4, 2);

    assertThat(scheduler.grab().slots()).hasSize(1);
    assertThat(scheduler.grab().slots()).hasSize(1);
    assertThat(scheduler.grab().isEmpty()).isTrue();
  }

  @Test
  void leastRecentlyServedSlotsComeFirst() {
    SlotScheduler scheduler = scheduler(4, 8);
    List<Grant> grants = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      grants.add(scheduler.grab());
    }
    List<Grant> servedOrder = List.of(grants.get(2), grants.get(0), grants.get(3), grants.get(1));
    servedOrder.forEach(grant -> scheduler.done(grant, true));

    for (Grant expected : servedOrder) {
      assertThat(scheduler.grab().slots()).containsExactlyInAnyOrderElementsOf(expected.slots());
    }
  }

  @Test
  void retireNeverReturnsABusySlotButCollectsItWhenItsWorkerIsDone() {
    SlotScheduler scheduler = scheduler(2, 8);
    Grant busy = scheduler.grab();

    List<Integer> retired = scheduler.retire(8);

    assertThat(retired).hasSize(4).doesNotContainAnyElementsOf(busy.slots());
    assertThat(scheduler.ownedCount()).isEqualTo(4);
    assertThat(scheduler.grab().isEmpty()).as("what is left is busy").isTrue();
    scheduler.done(busy, false);
    assertThat(scheduler.grab().isEmpty())
        .as("the finished slots are owed to the retirement, no worker starts on them")
        .isTrue();
    assertThat(scheduler.retire(4)).containsExactlyInAnyOrderElementsOf(busy.slots());
  }

  @Test
  void slotsKeptAfterAllWhenTheKeeperNoLongerAsksForThem() {
    SlotScheduler scheduler = scheduler(2, 8);
    Grant busy = scheduler.grab();
    scheduler.retire(8); // gives the 4 idle slots away, owes the 4 busy ones
    scheduler.done(busy, false);

    assertThat(scheduler.retire(0)).as("balanced again: nothing more to give").isEmpty();
    Map<Integer, Long> stillHeld = new HashMap<>();
    busy.slots().forEach(slot -> stillHeld.put(slot, 1000L + slot));
    scheduler.update(stillHeld, clock.nanoTime(), LEASE);
    List<Integer> kept = new ArrayList<>(scheduler.grab().slots());
    kept.addAll(scheduler.grab().slots());
    assertThat(kept).containsExactlyInAnyOrderElementsOf(busy.slots());
  }

  @Test
  void retireGivesAwayNoMoreThanAskedAndNoSlotTwice() {
    SlotScheduler scheduler = scheduler(1, 10);

    List<Integer> retired = scheduler.retire(3);

    assertThat(retired).hasSize(3).doesNotHaveDuplicates();
    assertThat(scheduler.ownedCount()).isEqualTo(7);
    assertThat(scheduler.grab().slots()).hasSize(7).doesNotContainAnyElementsOf(retired);
  }

  @Test
  void grantsNothingOnceTheLeaseMayHaveEnded() {
    SlotScheduler scheduler = new SlotScheduler(1, clock.nanos());
    assertThat(scheduler.grab().isEmpty()).as("no renewal yet").isTrue();

    long renewalStarted = clock.nanoTime();
    clock.advance(Duration.ofSeconds(2)); // the renewal took two seconds
    scheduler.update(slots(4), renewalStarted, LEASE);
    clock.advance(Duration.ofSeconds(8).minusNanos(1));
    Grant last = scheduler.grab();
    assertThat(last.slots()).hasSize(4);
    scheduler.done(last, false);

    clock.advance(Duration.ofNanos(1)); // ten seconds since the renewal started
    assertThat(scheduler.leaseValid()).isFalse();
    assertThat(scheduler.grab().isEmpty()).isTrue();

    scheduler.update(slots(4), clock.nanoTime(), LEASE);
    scheduler.markDirty(Slots.ALL);
    assertThat(scheduler.grab().slots()).hasSize(4);
  }

  @Test
  void clearForgetsEverySlot() {
    SlotScheduler scheduler = scheduler(1, 64);

    scheduler.clear();

    assertThat(scheduler.ownedCount()).isZero();
    assertThat(scheduler.grab().isEmpty()).isTrue();
  }

  @Test
  void aGrantHoldsWhileItsTokensAreHeldAndTheLeaseIsValid() {
    SlotScheduler scheduler = scheduler(1, 4);
    Grant grant = scheduler.grab();
    assertThat(scheduler.holds(grant)).isTrue();

    // Renewed with the same slots and tokens: still held.
    scheduler.update(slots(4), clock.nanoTime(), LEASE);
    assertThat(scheduler.holds(grant)).isTrue();

    // One slot of the grant changed owner and came back under a new token: the grant is stale.
    Map<Integer, Long> moved = slots(4);
    moved.put(grant.slots().get(0), 99L);
    scheduler.update(moved, clock.nanoTime(), LEASE);
    assertThat(scheduler.holds(grant)).isFalse();
  }

  @Test
  void aGrantDoesNotHoldOnceTheLeaseLapsedByTheRelaysOwnClock() {
    SlotScheduler scheduler = scheduler(1, 4);
    Grant grant = scheduler.grab();
    clock.advance(LEASE);
    assertThat(scheduler.holds(grant)).as("frozen past the lease").isFalse();
  }
}
