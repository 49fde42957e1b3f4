package dev.outbox.relay;

import dev.outbox.store.Slots;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The slots this relay instance holds, shared among its workers: each batch works on slots that may
 * hold events (written to since they were last read, or left with more to read) and that no other
 * local worker is working on, the least recently served first, and only while the leases are known
 * to be valid by the relay's own monotonic clock (a relay frozen past its lease starts nothing when
 * it resumes until it has renewed).
 */
final class SlotScheduler {

  private final int workers;
  private final LongSupplier nanoTime;
  private Map<Integer, Long> owned = Map.of();

  /** Changes whenever {@link #owned} does, so a grant can tell cheaply that it still holds. */
  private long ownedVersion;

  /** {@link #owned}'s slots as a bit set (see {@link Slots}), read without the lock. */
  private volatile long ownedBits;

  private final Set<Integer> busy = new HashSet<>();
  private final Map<Integer, Long> lastServed = new HashMap<>();
  private long served;
  private final List<Integer> retiring = new ArrayList<>();
  private int owed;
  private long dirty;
  private long validUntil;
  private boolean valid;

  SlotScheduler(int workers, LongSupplier nanoTime) {
    this.workers = workers;
    this.nanoTime = nanoTime;
  }

  /** The slots and tokens held as of a renewal that started at {@code renewedAt}. */
  synchronized void update(Map<Integer, Long> tokens, long renewedAt, Duration leaseTimeout) {
    // Slots retired since the keeper last looked are still held in the database: the keeper gives
    // them up at its next rebalance, where they are asked for again.
    Map<Integer, Long> kept = new HashMap<>(tokens);
    kept.keySet().removeAll(retiring);
    for (Integer slot : kept.keySet()) {
      if (!owned.containsKey(slot)) {
        dirty |= Slots.bit(slot); // newly held: may hold a backlog
      }
    }
    setOwned(kept);
    validUntil = renewedAt + leaseTimeout.toNanos();
    valid = true;
  }

  synchronized boolean leaseValid() {
    return valid && validUntil - nanoTime.getAsLong() > 0;
  }

  /**
   * Whether every slot of {@code grant} is still held under the token it was granted with, and the
   * leases are known to be valid: a relay that was frozen or lost a slot meanwhile sends no more of
   * that grant's events.
   */
  synchronized boolean holds(Grant grant) {
    if (!leaseValid()) {
      return false;
    }
    if (grant.version() == ownedVersion) {
      return true; // nothing changed since the grant
    }
    for (int i = 0; i < grant.slots().size(); i++) {
      Long token = owned.get(grant.slots().get(i));
      if (token == null || token.longValue() != grant.tokens().get(i).longValue()) {
        return false;
      }
    }
    return true;
  }

  private void setOwned(Map<Integer, Long> slots) {
    Map<Integer, Long> next = Map.copyOf(slots);
    if (!next.equals(owned)) {
      ownedVersion++;
    }
    owned = next;
    long bits = 0;
    for (Integer slot : next.keySet()) {
      bits |= Slots.bit(slot);
    }
    ownedBits = bits;
  }

  /**
   * The slots of {@code slots} (a bit set) this instance does not hold, as of its last renewal.
   * Never blocks: called after each commit.
   */
  long notOwned(long slots) {
    return slots & ~ownedBits;
  }

  synchronized int ownedCount() {
    return owned.size();
  }

  /** Notes that {@code slots} (a bit set, see {@link Slots}) may hold events to publish. */
  synchronized void markDirty(long slots) {
    dirty |= slots;
  }

  /**
   * Up to a worker's share of the free slots that may hold events, marked busy until {@link #done};
   * empty when the leases are not known to be valid or no such slot is free.
   */
  synchronized Grant grab() {
    if (!leaseValid()) {
      return Grant.NONE;
    }
    List<Integer> free = new ArrayList<>();
    for (Integer slot : owned.keySet()) {
      if (!busy.contains(slot) && (dirty & Slots.bit(slot)) != 0) {
        free.add(slot);
      }
    }
    if (free.isEmpty()) {
      return Grant.NONE;
    }
    int share = (owned.size() + workers - 1) / workers;
    free.sort(Comparator.comparingLong((Integer slot) -> lastServed.getOrDefault(slot, 0L)));
    List<Integer> slots = List.copyOf(free.subList(0, Math.min(share, free.size())));
    List<Long> tokens = new ArrayList<>(slots.size());
    for (Integer slot : slots) {
      busy.add(slot);
      dirty &= ~Slots.bit(slot);
      tokens.add(owned.get(slot));
    }
    return new Grant(slots, List.copyOf(tokens), ownedVersion);
  }

  /**
   * Frees the grant's slots; {@code again}: they may hold more events (a full batch, a failure).
   */
  synchronized void done(Grant grant, boolean again) {
    for (Integer slot : grant.slots()) {
      if (again) {
        dirty |= Slots.bit(slot);
      }
      busy.remove(slot);
      lastServed.put(slot, ++served);
      if (owed > 0 && owned.containsKey(slot)) {
        Map<Integer, Long> kept = new HashMap<>(owned);
        kept.remove(slot);
        setOwned(kept);
        retiring.add(slot);
        owed--;
      }
    }
  }

  /**
   * Gives up to {@code count} slots away: idle ones at once, and busy ones as their workers finish
   * with them (collected for the next call). No local worker starts on a returned slot again.
   */
  synchronized List<Integer> retire(int count) {
    List<Integer> retired = new ArrayList<>();
    for (Integer slot : retiring) {
      if (retired.size() < count) {
        retired.add(slot);
      }
    }
    retiring.clear();
    Map<Integer, Long> kept = new HashMap<>(owned);
    for (Integer slot : owned.keySet()) {
      if (retired.size() >= count) {
        break;
      }
      if (!busy.contains(slot)) {
        retired.add(slot);
        kept.remove(slot);
      }
    }
    setOwned(kept);
    owed = count - retired.size();
    return retired;
  }

  /** Forgets every slot, e.g. when the relay stops. */
  synchronized void clear() {
    setOwned(Map.of());
    retiring.clear();
    owed = 0;
    valid = false;
  }

  /** Slots a worker may work on, with the lease token of each (same order). */
  record Grant(List<Integer> slots, List<Long> tokens, long version) {
    static final Grant NONE = new Grant(List.of(), List.of(), -1);

    boolean isEmpty() {
      return slots.isEmpty();
    }

    int size() {
      return slots.size();
    }
  }
}
