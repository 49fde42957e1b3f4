package dev.outbox.store;

import dev.outbox.relay.OutboxDefaults;

/**
 * How the store writes and claims events. Immutable: start from {@link #defaults()}.
 *
 * @param deadEventBlocksKey whether a dead event holds back the later events of its key until an
 *     operator replays or discards it; by default the key continues
 * @param deleteAfterWrite change-data-capture mode: each written event is deleted again in the same
 *     transaction, so a CDC pipeline (Debezium's outbox event router) reads the insert from the
 *     write-ahead log and the table stays empty; no relay runs then
 */
public record StoreOptions(boolean deadEventBlocksKey, boolean deleteAfterWrite) {

  public static StoreOptions defaults() {
    return new StoreOptions(OutboxDefaults.DEAD_EVENT_BLOCKS_KEY, false);
  }

  public StoreOptions withDeadEventBlocksKey(boolean deadEventBlocksKey) {
    return new StoreOptions(deadEventBlocksKey, deleteAfterWrite);
  }

  public StoreOptions withDeleteAfterWrite(boolean deleteAfterWrite) {
    return new StoreOptions(deadEventBlocksKey, deleteAfterWrite);
  }
}
