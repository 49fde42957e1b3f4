package dev.outbox.store;

import dev.outbox.OutboxEvent;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The store as the relay sees it: slot leases shared by the relay instances, the pending rows of
 * leased slots, and the outcome of a batch.
 *
 * <p>Keys hash into {@link #SLOTS} slots. At most one relay instance (a <em>member</em>) holds the
 * lease of a slot at a time; it alone reads and completes that slot's events. Every call is short
 * and runs in a transaction of its own: no transaction stays open while the broker is awaited.
 *
 * <p>A member's view of its slots is as of its last renewal, and it may lose slots in between
 * without knowing: it was frozen and its lease expired, or its database session ended (a killed
 * connection, a restart or failover of the database) and the other members took its slots at once.
 * So the relay's reads and its completions are fenced by lease token: each take of a slot gets a
 * new token, and the relay reads ({@link #candidates}, {@link #prefetch}) and completes ({@link
 * #complete}) only the rows of slots still held under the tokens it was granted. A member that lost
 * a slot reads nothing more of it and cannot record outcomes for it; what it read before it lost
 * the slot (one batch at most) may still be sent, by it and by the slot's new owner.
 */
public interface RelayStore {

  /** The number of slots keys hash into; fixed by the schema. */
  int SLOTS = 64;

  /**
   * Registers or renews {@code member} for {@code ttl} and reports its leases, how many members are
   * alive, how many slots have no live owner, and whether its slots hold pending events.
   */
  Leases renewLeases(String member, Duration ttl);

  /**
   * Releases {@code release} (slots of {@code member} it no longer works on), then takes slots
   * without a live owner until {@code member} holds its fair share, in one transaction serialized
   * with every other member's rebalance. Returns the leases afterwards.
   */
  Leases rebalanceLeases(String member, Duration ttl, Collection<Integer> release);

  /** Releases every slot of {@code member} and removes it, so other members take over at once. */
  void leave(String member);

  /**
   * The oldest pending rows of each slot in {@code slots} that is still held under one of {@code
   * tokens} (the lease tokens the caller was granted its slots with), at most {@code perSlot} per
   * slot, leaving out the rows {@code held} names and unkeyed rows whose retry is not yet due (they
   * keep no order, and would otherwise hide the rows behind them), in write order. Narrow: no
   * payload is read. A slot taken over by another member since is read as empty.
   */
  List<Candidate> candidates(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, Held held);

  /**
   * The distinct keys of the pending events to {@code destination} among the oldest {@code depth}
   * pending rows of each slot in {@code slots}. While that destination refuses events, the relay
   * holds these keys back, so that it reads the rows of other destinations behind them.
   */
  List<String> pendingKeys(String destination, Collection<Integer> slots, int depth);

  /**
   * The full events of {@code ids} that are still pending, in write order, and the pending rows
   * among them that no event can be made of (written by another writer: malformed headers, an event
   * version below 1, ...), which the relay sets DEAD with the reason.
   */
  Loaded load(Collection<UUID> ids);

  /**
   * At most {@code limit} of the rows {@link #candidates} returns, read with their events: one
   * statement instead of two, for a relay that expects few pending rows. The rows of each slot are
   * still its oldest ones, in write order, and fenced as there. Every row returned costs its
   * payload, sent or not (a key held back by an older row), so a relay asks for it only when its
   * last batch was small, and with {@code limit} at most a batch.
   */
  default Prefetched prefetch(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, int limit, Held held) {
    List<Candidate> candidates = candidates(slots, tokens, perSlot, held);
    candidates = candidates.subList(0, Math.min(limit, candidates.size()));
    return new Prefetched(candidates, load(candidates.stream().map(Candidate::id).toList()));
  }

  /**
   * Records the outcome of a batch: deletes the published events, schedules the retries, marks the
   * dead. Only rows of slots that {@code member} still holds under one of {@code tokens} are
   * touched; the counts say how many were.
   */
  Completion complete(
      String member,
      Collection<Long> tokens,
      Collection<UUID> published,
      List<Retry> retries,
      List<Dead> dead);

  /**
   * Bounds the relay's calls into the store from now on: a connection that answers nothing for
   * {@code callTimeout} fails as if it had broken, and a rebalance waits at most {@code
   * rebalanceTimeout} for another member's rebalance, and may stay open in the database at most
   * that long between its statements (so one member that stops answering in the middle of its
   * rebalance cannot hold the slot table for the others). The relay sets them when it starts, from
   * its {@link dev.outbox.relay.RelayTiming}. The default bounds nothing, so a store that wraps
   * another must pass this on.
   */
  default void bound(Duration callTimeout, Duration rebalanceTimeout) {}

  /**
   * A member's view of the leases.
   *
   * @param tokens the slots this member holds, with the lease token of each
   * @param liveMembers live members, this one included
   * @param orphanedSlots slots that no live member holds
   * @param pending whether this member's slots hold pending events
   */
  record Leases(Map<Integer, Long> tokens, int liveMembers, int orphanedSlots, boolean pending) {

    public Leases {
      tokens = Map.copyOf(tokens);
      if (liveMembers < 1) {
        throw new IllegalArgumentException("liveMembers must be at least 1, was " + liveMembers);
      }
    }

    /** The most slots one member should hold: every slot covered, none held twice. */
    public int fairShare() {
      return (SLOTS + liveMembers - 1) / liveMembers;
    }

    /** Whether a rebalance would change anything: slots to take, or more than the fair share. */
    public boolean unbalanced() {
      return (orphanedSlots > 0 && tokens.size() < fairShare()) || tokens.size() > fairShare();
    }
  }

  /**
   * The rows the relay leaves out when it reads, so that it reaches the rows behind them: those of
   * the keys it holds back, and the unkeyed ones of the destinations it has closed (they keep no
   * order, so only their destination holds them).
   *
   * @param keys keys held back: by a retry not yet due, or by a destination that refuses events
   * @param destinations destinations that refuse events on their own for now
   */
  record Held(Collection<String> keys, Collection<String> destinations) {

    /** Nothing held. */
    public static final Held NONE = new Held(Set.of(), Set.of());

    public Held {
      keys = Set.copyOf(keys);
      destinations = Set.copyOf(destinations);
    }

    /** Only {@code keys} held, no destination closed. */
    public static Held ofKeys(Collection<String> keys) {
      return new Held(keys, Set.of());
    }

    /** Whether the row of an event to {@code destination} with {@code key} is left out. */
    public boolean holds(String destination, @Nullable String key) {
      return key == null ? destinations.contains(destination) : keys.contains(key);
    }
  }

  /**
   * A pending row as the relay first reads it.
   *
   * @param id the event id
   * @param sequence write order
   * @param key the aggregate key, or null
   * @param slot the slot of the row
   * @param attempts failed attempts so far
   * @param waitMillis how long until a retry is due, by the database clock; zero or less when due
   */
  record Candidate(
      UUID id, long sequence, @Nullable String key, int slot, int attempts, long waitMillis) {

    public Candidate {
      Objects.requireNonNull(id, "id");
    }

    public boolean due() {
      return waitMillis <= 0;
    }
  }

  /**
   * What {@link #load} read.
   *
   * @param events the decoded events, in write order
   * @param undecodable the rows that could not be decoded
   */
  record Loaded(List<OutboxEvent> events, List<Undecodable> undecodable) {

    public Loaded {
      events = List.copyOf(events);
      undecodable = List.copyOf(undecodable);
    }

    public static Loaded of(List<OutboxEvent> events) {
      return new Loaded(events, List.of());
    }

    /** The events and undecodable rows among {@code ids}. */
    public Loaded only(Collection<UUID> ids) {
      Set<UUID> wanted = new HashSet<>(ids);
      return new Loaded(
          events.stream().filter(event -> wanted.contains(event.id())).toList(),
          undecodable.stream().filter(row -> wanted.contains(row.id())).toList());
    }
  }

  /**
   * What {@link #prefetch} read.
   *
   * @param candidates the rows, as {@link #candidates} returns them
   * @param loaded the events of those rows, as {@link #load} returns them
   */
  record Prefetched(List<Candidate> candidates, Loaded loaded) {

    public Prefetched {
      candidates = List.copyOf(candidates);
      Objects.requireNonNull(loaded, "loaded");
    }
  }

  /**
   * A pending row no event can be made of.
   *
   * @param id the row's id
   * @param key the row's key, or null
   * @param attempts failed attempts so far
   * @param reason what is wrong with the row
   */
  record Undecodable(UUID id, @Nullable String key, int attempts, String reason) {

    public Undecodable {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** A failed event to try again after {@code delay}. */
  record Retry(UUID id, int attempts, Duration delay, String error) {}

  /** A failed event that will not be tried again. */
  record Dead(UUID id, int attempts, String error) {}

  /** How many rows a completion touched. */
  record Completion(int deleted, int retried, int dead) {

    public int total() {
      return deleted + retried + dead;
    }
  }
}
