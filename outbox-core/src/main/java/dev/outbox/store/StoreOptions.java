package dev.outbox.store;

import dev.outbox.relay.OutboxDefaults;
import java.time.Duration;
import java.util.Objects;

/**
 * How the store claims events. Immutable: start from {@link #defaults()}.
 *
 * @param deadEventBlocksKey whether a dead event holds back the later events of its key until an
 *     operator replays or discards it; by default the key continues
 * @param claimTimeout the longest a relay may hold a claim without talking to the database; a relay
 *     that hangs longer loses its claim (its session is ended), so other instances take over
 */
public record StoreOptions(boolean deadEventBlocksKey, Duration claimTimeout) {

  public StoreOptions {
    Objects.requireNonNull(claimTimeout, "claimTimeout");
    if (claimTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("claimTimeout must be at least 1 ms, was " + claimTimeout);
    }
  }

  public static StoreOptions defaults() {
    return new StoreOptions(
        OutboxDefaults.DEAD_EVENT_BLOCKS_KEY, OutboxDefaults.PUBLISH_TIMEOUT.multipliedBy(2));
  }

  public StoreOptions withDeadEventBlocksKey(boolean deadEventBlocksKey) {
    return new StoreOptions(deadEventBlocksKey, claimTimeout);
  }

  public StoreOptions withClaimTimeout(Duration claimTimeout) {
    return new StoreOptions(deadEventBlocksKey, claimTimeout);
  }
}
