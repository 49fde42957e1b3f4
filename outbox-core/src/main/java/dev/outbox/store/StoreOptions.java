package dev.outbox.store;

import dev.outbox.relay.OutboxDefaults;
import java.time.Duration;
import java.util.Objects;

/**
 * How the store writes and claims events. Immutable: start from {@link #defaults()}.
 *
 * @param deadEventBlocksKey whether a dead event holds back the later events of its key until an
 *     operator replays or discards it; by default the key continues
 * @param claimTimeout the longest a relay may hold a claim without talking to the database; a relay
 *     that hangs longer loses its claim (its session is ended), so other instances take over
 * @param deleteAfterWrite change-data-capture mode: each written event is deleted again in the same
 *     transaction, so a CDC pipeline (Debezium's outbox event router) reads the insert from the
 *     write-ahead log and the table stays empty; no relay runs then
 */
public record StoreOptions(
    boolean deadEventBlocksKey, Duration claimTimeout, boolean deleteAfterWrite) {

  public StoreOptions {
    Objects.requireNonNull(claimTimeout, "claimTimeout");
    if (claimTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("claimTimeout must be at least 1 ms, was " + claimTimeout);
    }
  }

  public static StoreOptions defaults() {
    return new StoreOptions(
        OutboxDefaults.DEAD_EVENT_BLOCKS_KEY,
        OutboxDefaults.PUBLISH_TIMEOUT.multipliedBy(2),
        false);
  }

  public StoreOptions withDeadEventBlocksKey(boolean deadEventBlocksKey) {
    return new StoreOptions(deadEventBlocksKey, claimTimeout, deleteAfterWrite);
  }

  public StoreOptions withClaimTimeout(Duration claimTimeout) {
    return new StoreOptions(deadEventBlocksKey, claimTimeout, deleteAfterWrite);
  }

  public StoreOptions withDeleteAfterWrite(boolean deleteAfterWrite) {
    return new StoreOptions(deadEventBlocksKey, claimTimeout, deleteAfterWrite);
  }
}
