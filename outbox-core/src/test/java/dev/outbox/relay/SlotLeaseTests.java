package dev.outbox.relay;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.BatchPublisher.Outcome;
import dev.outbox.store.RelayStore;
import dev.outbox.store.RelayStore.Completion;
import dev.outbox.test.LogCapture;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two relay instances sharing the slots of one in-memory store: convergence, a killed instance, a
 * frozen one. Leases are kept by calling {@link LeaseKeeper#tick()}; time passes only on the
 * settable clock.
 */
class SlotLeaseTests {

  private final SettableClock clock = new SettableClock();
  private final InMemoryOutboxRepository store = new InMemoryOutboxRepository(clock);
  private final RecordingTransport transport = new RecordingTransport();
  private final TestEvents events = new TestEvents(clock);
  private final RelayNode a = new RelayNode(store, transport, clock, "member-a");
  private final RelayNode b = new RelayNode(store, transport, clock, "member-b");
  private final ExecutorService background = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopBackground() {
    background.shutdownNow();
  }

  private void converge() {
    a.tick(); // alone: takes every slot
    b.tick(); // joins: no slot is orphaned, so it takes none yet
    a.tick(); // holds more than its fair share: gives the excess back
    b.tick(); // takes the released slots
  }

  @Test
  void twoMembersConvergeToHalfTheSlotsEachWithNoSlotHeldTwice() {
    converge();

    assertThat(a.owned()).isEqualTo(32);
    assertThat(b.owned()).isEqualTo(32);
    Set<Integer> slotsOfA = store.tokensOf(a.member).keySet();
    Set<Integer> slotsOfB = store.tokensOf(b.member).keySet();
    assertThat(slotsOfA).doesNotContainAnyElementsOf(slotsOfB);
    Set<Integer> all = new HashSet<>(slotsOfA);
    all.addAll(slotsOfB);
    assertThat(all).isEqualTo(IntStream.range(0, RelayStore.SLOTS).boxed().collect(toSet()));

    Map<Integer, Long> tokensOfA = store.tokensOf(a.member);
    Map<Integer, Long> tokensOfB = store.tokensOf(b.member);
    a.tick();
    b.tick();
    assertThat(store.tokensOf(a.member)).as("stable once balanced").isEqualTo(tokensOfA);
    assertThat(store.tokensOf(b.member)).isEqualTo(tokensOfB);
  }

  @Test
  void leasesAreRenewedFastWhileSlotsMoveAndOncePerPollIntervalOnceSettled() {
    Duration fast = a.timing.settleInterval();
    Duration normal = a.timing.renewInterval();
    assertThat(fast).isLessThan(normal);

    a.tick(); // alone: takes every slot
    assertThat(a.keeper.nextTick()).as("just took slots").isEqualTo(fast);
    clock.advance(a.timing.settleWindow());
    a.tick();
    assertThat(a.keeper.nextTick()).as("nothing moved for the settle window").isEqualTo(normal);

    b.tick(); // joins: takes nothing yet, but the membership it sees is new
    assertThat(b.keeper.nextTick()).isEqualTo(fast);
    a.tick(); // sees the new member, gives up its excess
    assertThat(a.keeper.nextTick()).isEqualTo(fast);
    b.tick(); // takes the released slots at its next (fast) tick
    assertThat(b.owned()).isEqualTo(32);

    clock.advance(a.timing.settleWindow());
    a.tick();
    b.tick();
    assertThat(a.keeper.nextTick()).isEqualTo(normal);
    assertThat(b.keeper.nextTick()).isEqualTo(normal);
  }

  @Test
  void memberStillOwingBusySlotsKeepsRenewingFastUntilItHasGivenThemUp() {
    a.tick();
    clock.advance(a.timing.settleWindow());
    a.tick();
    SlotScheduler.Grant grant = a.scheduler.grab(); // a worker is on every slot of a
    b.tick();
    a.tick(); // owes 32 slots, some of them busy
    clock.advance(a.timing.settleWindow());
    a.tick();
    assertThat(a.keeper.nextTick())
        .as("busy slots still owed")
        .isEqualTo(a.timing.settleInterval());
    a.scheduler.done(grant, false);
    a.tick(); // gives up the rest
    b.tick();
    assertThat(a.owned() + b.owned()).isEqualTo(RelayStore.SLOTS);
    clock.advance(a.timing.settleWindow());
    a.tick();
    assertThat(a.keeper.nextTick()).isEqualTo(a.timing.renewInterval());
  }

  @Test
  void eachMemberPublishesOnlyTheEventsOfItsOwnSlots() {
    converge();
    int slotOfA = store.tokensOf(a.member).keySet().iterator().next();
    int slotOfB = store.tokensOf(b.member).keySet().iterator().next();
    OutboxEvent forA = events.event("orders", TestEvents.keyInSlot(slotOfA, "order"));
    OutboxEvent forB = events.event("orders", TestEvents.keyInSlot(slotOfB, "order"));
    store.append(forA, forB);

    a.cycle();
    assertThat(transport.sentIds()).containsExactly(forA.id());
    b.cycle();
    assertThat(transport.sentIds()).containsExactly(forA.id(), forB.id());
    assertThat(store.rows()).isEmpty();
  }

  @Test
  void killedMembersSlotsMoveAtTheOtherMembersNextTickUnderNewTokens() {
    converge();
    Map<Integer, Long> tokensOfB = store.tokensOf(b.member);
    long highestToken =
        store.tokensOf(a.member).values().stream().mapToLong(Long::longValue).max().orElseThrow();
    highestToken =
        Math.max(highestToken, tokensOfB.values().stream().mapToLong(t -> t).max().orElseThrow());
    int slotOfB = tokensOfB.keySet().iterator().next();
    OutboxEvent stranded = events.event("orders", TestEvents.keyInSlot(slotOfB, "order"));
    store.append(stranded);

    store.kill(b.member); // no time passes: its session ended
    a.tick();

    assertThat(a.owned()).isEqualTo(64);
    Map<Integer, Long> tokensOfA = store.tokensOf(a.member);
    for (Map.Entry<Integer, Long> taken : tokensOfB.entrySet()) {
      assertThat(tokensOfA.get(taken.getKey()))
          .as("token of slot %s", taken.getKey())
          .isGreaterThan(highestToken);
    }
    assertThat(store.completions()).isEmpty();
    List<Long> oldTokens = List.copyOf(tokensOfB.values());
    assertThat(store.complete(b.member, oldTokens, List.of(stranded.id()), List.of(), List.of()))
        .isEqualTo(new Completion(0, 0, 0));

    a.cycle();
    assertThat(transport.sentIds()).containsExactly(stranded.id());
    assertThat(store.rows()).isEmpty();
  }

  /**
   * The survivor's line docs/guarantees.md and docs/operations.md quote: logged when the number of
   * slots it holds or of instances alive changes, not at every renewal.
   */
  @Test
  void survivorLogsTheSlotsItHoldsAndTheInstancesAliveWhenEitherChanges() {
    try (LogCapture log = LogCapture.of(LeaseKeeper.class)) {
      converge();
      store.kill(b.member);
      a.tick();
      a.tick();

      assertThat(log.lines("'member-a' holds"))
          .containsExactly(
              "INFO Outbox relay 'member-a' holds 64 of 64 slots (1 relay instance(s) alive)",
              "INFO Outbox relay 'member-a' holds 32 of 64 slots (2 relay instance(s) alive)",
              "INFO Outbox relay 'member-a' holds 64 of 64 slots (1 relay instance(s) alive)");
      assertThat(log.lines("'member-b' holds"))
          .containsExactly(
              "INFO Outbox relay 'member-b' holds 0 of 64 slots (2 relay instance(s) alive)",
              "INFO Outbox relay 'member-b' holds 32 of 64 slots (2 relay instance(s) alive)");
    }
  }

  @Test
  void memberFrozenPastItsLeaseGrantsNothingUntilItRenews() {
    a.tick();
    Map<Integer, Long> tokens = store.tokensOf(a.member);
    OutboxEvent event = events.event("orders", "order-1");
    store.append(event);

    clock.advance(RelayNode.LEASE_TIMEOUT.minusNanos(1));
    SlotScheduler.Grant stillValid = a.scheduler.grab();
    assertThat(stillValid.slots()).hasSize(64);
    a.scheduler.done(stillValid, false);

    clock.advance(java.time.Duration.ofNanos(1)); // lease timeout since the renewal started
    assertThat(a.cycle()).isNull();
    assertThat(transport.sends()).isEmpty();

    a.tick(); // nobody took its slots over: it keeps them, under the same tokens
    assertThat(store.tokensOf(a.member)).isEqualTo(tokens);
    a.cycle();
    assertThat(transport.sentIds()).containsExactly(event.id());
  }

  @Test
  void frozenMembersLateCompletionTouchesNothingWhileTheNewOwnerPublishesTheSameIds()
      throws Exception {
    a.tick();
    Map<Integer, Long> tokensOfA = store.tokensOf(a.member);
    OutboxEvent event = events.event("orders", "order-1");
    store.append(event);
    transport.holdEvent(event.id(), 1);
    Future<Outcome> frozenBatch = background.submit(a::cycle);
    await().atMost(RelayNode.PUBLISH_TIMEOUT).until(() -> transport.sent(event.id()));

    // a stops ticking (frozen) for longer than its lease; b joins and takes every slot over
    clock.advance(RelayNode.LEASE_TIMEOUT.plusMillis(1));
    b.tick();

    assertThat(b.owned()).isEqualTo(64);
    assertThat(store.owners().values()).containsOnly(b.member);
    Map<Integer, Long> tokensOfB = store.tokensOf(b.member);
    tokensOfB.forEach(
        (slot, token) -> assertThat(token).as("slot %s", slot).isNotEqualTo(tokensOfA.get(slot)));

    // a's acknowledgement comes in late: its completion, under the old tokens, is fenced off
    transport.complete(event.id());
    frozenBatch.get(RelayNode.PUBLISH_TIMEOUT.toMillis(), MILLISECONDS);
    assertThat(a.cycle()).as("a grants nothing on its expired lease").isNull();
    assertThat(store.completions()).containsExactly(new Completion(0, 0, 0));
    assertThat(store.row(event.id())).isPresent();

    b.cycle();

    assertThat(transport.sentIds()).containsExactly(event.id(), event.id());
    assertThat(transport.sends().get(1).attempts()).isZero();
    assertThat(store.completions())
        .containsExactly(new Completion(0, 0, 0), new Completion(1, 0, 0));
    assertThat(store.rows()).isEmpty();

    // a renews at last: it holds nothing until b gives back the excess, then its half again
    a.tick();
    assertThat(a.owned()).isZero();
    b.tick();
    a.tick();
    assertThat(a.owned()).isEqualTo(32);
    assertThat(b.owned()).isEqualTo(32);
  }

  @Test
  void memberThatLeavesHandsItsSlotsOverAtTheOtherMembersNextTick() {
    converge();
    b.keeper.leave();

    assertThat(b.owned()).isZero();
    a.tick();
    assertThat(a.owned()).isEqualTo(64);
  }

  private static java.util.stream.Collector<Integer, ?, Set<Integer>> toSet() {
    return Collectors.toSet();
  }
}
