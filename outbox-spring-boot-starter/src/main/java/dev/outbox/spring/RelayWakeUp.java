package dev.outbox.spring;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresWakeups;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Wakes the relays that publish events just made due in some slots (a bit set, see {@code
 * dev.outbox.store.Slots}): this instance's relay for the slots it holds, and the relays of other
 * instances, through {@code NOTIFY}, for the rest (every slot, without a local relay). Run after a
 * commit that wrote events and after a replay of dead events. Never blocks.
 *
 * <p>One bean, which the outbox and the endpoint share. It implements no interface, so it never
 * answers an application's injection point of a JDK type such as {@code LongConsumer}.
 */
final class RelayWakeUp {

  private final Supplier<@Nullable OutboxRelay> localRelay;
  private final Supplier<@Nullable PostgresWakeups> otherRelays;

  /**
   * @param localRelay this instance's relay, or null without one; looked up on each call, so pass a
   *     memoizing supplier
   * @param otherRelays the notifications to other instances, or null when they are off ({@code
   *     outbox.relay.notify=false})
   */
  RelayWakeUp(
      Supplier<@Nullable OutboxRelay> localRelay, Supplier<@Nullable PostgresWakeups> otherRelays) {
    this.localRelay = localRelay;
    this.otherRelays = otherRelays;
  }

  /** Wakes the relays for {@code slots}. */
  void wake(long slots) {
    OutboxRelay local = localRelay.get();
    long elsewhere = slots;
    if (local != null) {
      local.wakeUp(slots);
      elsewhere = local.slotsHeldElsewhere(slots);
      if (elsewhere == 0) {
        return;
      }
    }
    PostgresWakeups notify = otherRelays.get();
    if (notify != null) {
      // Only the slots held elsewhere: this instance's relay has been woken for its own.
      notify.signal(elsewhere);
    }
  }
}
