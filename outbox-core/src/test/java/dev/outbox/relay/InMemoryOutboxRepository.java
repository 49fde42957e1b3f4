package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.StoreOptions;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The outbox table, its slot table and its member table in memory, with the semantics of {@link
 * dev.outbox.store.PostgresOutboxRepository} (see {@code PostgresSlotRows} and {@code
 * PostgresLeases}), for unit tests of the relay that need no database. Every method is
 * synchronized: one method call is one transaction.
 *
 * <ul>
 *   <li>Rows are PENDING or DEAD; published rows are deleted. {@code seq} is the write order.
 *   <li>The slot of a row is a stable hash of its key (of its id when it has none) {@code & 63}.
 *   <li>A new row (no attempts) is due at once; a retry is due when its available time has passed
 *       by this store's clock. Reads leave out unkeyed rows whose retry is not yet due.
 *   <li>A member is alive while its lease has not expired by this store's clock and its session was
 *       not {@link #kill killed}. Lease tokens come from one counter and change on every takeover.
 *   <li>Completions touch only rows of slots that the member still holds under one of the tokens;
 *       fenced reads read only the slots still held under one of the tokens.
 * </ul>
 */
final class InMemoryOutboxRepository implements OutboxRepository {

  private final Clock clock;
  private final StoreOptions options;

  private final Map<UUID, Row> rows = new LinkedHashMap<>();
  private long sequence;

  private final @Nullable String[] owners = new String[SLOTS];
  private final long[] tokens = new long[SLOTS];
  private long tokenSequence;
  private final Map<String, Member> members = new HashMap<>();

  private final List<Completion> completions = new ArrayList<>();
  private @Nullable Predicate<Thread> failCandidatesOn;
  private int candidateReads;
  private int keyLookUps;
  private int prefetches;

  InMemoryOutboxRepository(Clock clock) {
    this(clock, StoreOptions.defaults());
  }

  InMemoryOutboxRepository(Clock clock, StoreOptions options) {
    this.clock = clock;
    this.options = options;
  }

  /** The slot of a key, as the database computes it ({@link dev.outbox.store.Slots}). */
  static int slotOf(String key) {
    return dev.outbox.store.Slots.ofText(key);
  }

  static int slotOf(OutboxEvent event) {
    return slotOf(event.key() != null ? event.key() : event.id().toString());
  }

  // ---------------------------------------------------------------- writing

  /** Appends committed events, as a transaction writing them would. */
  synchronized void append(OutboxEvent... events) {
    append((Connection) null, List.of(events));
  }

  @Override
  public synchronized void append(@Nullable Connection connection, List<OutboxEvent> events) {
    if (options.deleteAfterWrite()) {
      return;
    }
    for (OutboxEvent event : events) {
      if (rows.containsKey(event.id())) {
        throw new OutboxException("duplicate key value violates unique constraint: " + event.id());
      }
      Row row = new Row(event, ++sequence, slotOf(event));
      row.availableAt = event.createdAt();
      rows.put(event.id(), row);
    }
  }

  // ---------------------------------------------------------------- leases

  @Override
  public synchronized Leases renewLeases(String member, Duration ttl) {
    Member me = members.computeIfAbsent(member, name -> new Member());
    me.expiresAt = now().plus(ttl);
    me.sessionAlive = true;
    int others = 0;
    for (Map.Entry<String, Member> entry : members.entrySet()) {
      if (!entry.getKey().equals(member) && alive(entry.getValue())) {
        others++;
      }
    }
    int orphaned = 0;
    Map<Integer, Long> mine = new HashMap<>();
    boolean pending = false;
    for (int slot = 0; slot < SLOTS; slot++) {
      String owner = owners[slot];
      if (member.equals(owner)) {
        mine.put(slot, tokens[slot]);
      } else if (owner == null || !alive(owner)) {
        orphaned++;
      }
    }
    for (Row row : rows.values()) {
      if (row.pending() && mine.containsKey(row.slot)) {
        pending = true;
        break;
      }
    }
    return new Leases(mine, others + 1, orphaned, pending);
  }

  @Override
  public synchronized Leases rebalanceLeases(
      String member, Duration ttl, Collection<Integer> release) {
    renewLeases(member, ttl);
    List<Integer> mine = new ArrayList<>();
    List<Integer> orphaned = new ArrayList<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      String owner = owners[slot];
      if (member.equals(owner)) {
        mine.add(slot);
      } else if (owner == null || !alive(owner)) {
        orphaned.add(slot);
      }
    }
    int others = 0;
    for (Map.Entry<String, Member> entry : members.entrySet()) {
      if (!entry.getKey().equals(member) && alive(entry.getValue())) {
        others++;
      }
    }
    List<Integer> released = new ArrayList<>(release);
    released.retainAll(mine);
    for (Integer slot : released) {
      owners[slot] = null;
    }
    int fair = new Leases(Map.of(), others + 1, 0, false).fairShare();
    int room = fair - (mine.size() - released.size());
    if (room > 0) {
      for (Integer slot : orphaned.subList(0, Math.min(room, orphaned.size()))) {
        owners[slot] = member;
        tokens[slot] = ++tokenSequence;
      }
    }
    members
        .entrySet()
        .removeIf(entry -> !entry.getKey().equals(member) && !alive(entry.getValue()));
    return renewLeases(member, ttl);
  }

  @Override
  public synchronized void leave(String member) {
    for (int slot = 0; slot < SLOTS; slot++) {
      if (member.equals(owners[slot])) {
        owners[slot] = null;
      }
    }
    members.remove(member);
  }

  /**
   * Ends a member's database session, as when its process is killed: from now on it is not alive,
   * so its slots are orphaned at once and the other members take them at their next renewal.
   */
  synchronized void kill(String member) {
    Member killed = members.get(member);
    if (killed != null) {
      killed.sessionAlive = false;
    }
  }

  /** The owner of each slot, as the slot table says; null for slots nobody holds. */
  synchronized Map<Integer, String> owners() {
    Map<Integer, String> result = new TreeMap<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      if (owners[slot] != null) {
        result.put(slot, owners[slot]);
      }
    }
    return result;
  }

  /** The token of each slot {@code member} holds. */
  synchronized Map<Integer, Long> tokensOf(String member) {
    Map<Integer, Long> result = new TreeMap<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      if (member.equals(owners[slot])) {
        result.put(slot, tokens[slot]);
      }
    }
    return result;
  }

  private boolean alive(String member) {
    Member m = members.get(member);
    return m != null && alive(m);
  }

  private boolean alive(Member member) {
    return member.sessionAlive && member.expiresAt.isAfter(now());
  }

  // ---------------------------------------------------------------- rows

  @Override
  public synchronized List<Candidate> candidates(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, Held held) {
    candidateReads++;
    return pendingRows(stillHeld(slots, tokens), perSlot, held);
  }

  @Override
  public synchronized Prefetched prefetch(
      Collection<Integer> slots, Collection<Long> tokens, int perSlot, int limit, Held held) {
    prefetches++;
    List<Candidate> candidates = pendingRows(stillHeld(slots, tokens), perSlot, held);
    candidates = candidates.subList(0, Math.min(limit, candidates.size()));
    return new Prefetched(candidates, load(candidates.stream().map(Candidate::id).toList()));
  }

  /** The slots of {@code slots} still held under one of {@code tokens}, in the order given. */
  private List<Integer> stillHeld(Collection<Integer> slots, Collection<Long> fence) {
    Set<Long> wanted = new HashSet<>(fence);
    return slots.stream().filter(slot -> wanted.contains(tokens[slot])).toList();
  }

  @Override
  public synchronized List<String> pendingKeys(
      String destination, Collection<Integer> slots, int depth) {
    keyLookUps++;
    Set<Integer> wanted = new HashSet<>(slots);
    Map<Integer, Integer> perSlotCount = new HashMap<>();
    Set<String> keys = new LinkedHashSet<>();
    for (Row row : inWriteOrder()) {
      if (!row.pending() || !wanted.contains(row.slot)) {
        continue;
      }
      if (perSlotCount.merge(row.slot, 1, Integer::sum) > depth) {
        continue;
      }
      if (row.event.destination().equals(destination) && row.event.key() != null) {
        keys.add(row.event.key());
      }
    }
    return new ArrayList<>(keys);
  }

  private List<Candidate> pendingRows(Collection<Integer> slots, int perSlot, Held held) {
    if (failCandidatesOn != null && failCandidatesOn.test(Thread.currentThread())) {
      throw new OutboxException("Could not read pending events: connection reset (scripted)");
    }
    Set<Integer> wanted = new HashSet<>(slots);
    Map<Integer, Integer> perSlotCount = new HashMap<>();
    List<Candidate> result = new ArrayList<>();
    Instant now = now();
    for (Row row : inWriteOrder()) {
      if (!row.pending() || !wanted.contains(row.slot)) {
        continue;
      }
      String key = row.event.key();
      if (held.holds(row.event.destination(), key)) {
        continue;
      }
      if (options.deadEventBlocksKey() && key != null && deadBefore(key, row.seq)) {
        continue;
      }
      if (key == null && row.attempts > 0 && row.availableAt.isAfter(now)) {
        continue; // unkeyed, waiting for its retry: keeps no order, so it is left out
      }
      if (perSlotCount.merge(row.slot, 1, Integer::sum) > perSlot) {
        continue;
      }
      long waitMillis = row.attempts == 0 ? 0 : ceilMillis(Duration.between(now, row.availableAt));
      result.add(new Candidate(row.event.id(), row.seq, key, row.slot, row.attempts, waitMillis));
    }
    return result;
  }

  private boolean deadBefore(String key, long seq) {
    for (Row row : rows.values()) {
      if (!row.pending() && key.equals(row.event.key()) && row.seq < seq) {
        return true;
      }
    }
    return false;
  }

  private static long ceilMillis(Duration duration) {
    long nanos = duration.toNanos();
    return Math.floorDiv(nanos + 999_999, 1_000_000);
  }

  @Override
  public synchronized Loaded load(Collection<UUID> ids) {
    List<OutboxEvent> result = new ArrayList<>();
    for (UUID id : new HashSet<>(ids)) {
      Row row = rows.get(id);
      if (row != null && row.pending()) {
        result.add(row.current());
      }
    }
    result.sort(Comparator.comparingLong(OutboxEvent::sequence));
    return Loaded.of(result);
  }

  @Override
  public synchronized Completion complete(
      String member,
      Collection<Long> fence,
      Collection<UUID> published,
      List<Retry> retries,
      List<Dead> dead) {
    Set<Long> valid = new HashSet<>(fence);
    Instant now = now();
    int deleted = 0;
    for (UUID id : new HashSet<>(published)) {
      Row row = rows.get(id);
      if (row != null && holds(member, valid, row.slot)) {
        rows.remove(id);
        deleted++;
      }
    }
    int retried = 0;
    for (Retry retry : retries) {
      Row row = rows.get(retry.id());
      if (row != null && row.pending() && holds(member, valid, row.slot)) {
        row.attempts = retry.attempts();
        row.lastError = retry.error();
        row.lastAttemptAt = now;
        row.availableAt = now.plus(retry.delay());
        retried++;
      }
    }
    int died = 0;
    for (Dead d : dead) {
      Row row = rows.get(d.id());
      if (row != null && row.pending() && holds(member, valid, row.slot)) {
        row.status = Status.DEAD;
        row.attempts = d.attempts();
        row.lastError = d.error();
        row.lastAttemptAt = now;
        died++;
      }
    }
    Completion completion = new Completion(deleted, retried, died);
    completions.add(completion);
    return completion;
  }

  private boolean holds(String member, Set<Long> fence, int slot) {
    return member.equals(owners[slot]) && fence.contains(tokens[slot]);
  }

  // ---------------------------------------------------------------- operator

  @Override
  public synchronized List<DeadEvent> findDead(int limit) {
    List<DeadEvent> result = new ArrayList<>();
    for (Row row : inWriteOrder()) {
      if (result.size() == limit) {
        break;
      }
      if (!row.pending()) {
        result.add(
            new DeadEvent(
                row.current(),
                row.lastError == null ? "" : row.lastError,
                row.lastAttemptAt != null ? row.lastAttemptAt : row.event.createdAt()));
      }
    }
    return result;
  }

  @Override
  public synchronized boolean replay(UUID id) {
    Row row = rows.get(id);
    if (row == null || row.pending()) {
      return false;
    }
    row.status = Status.PENDING;
    row.attempts = 0;
    row.availableAt = now();
    return true;
  }

  @Override
  public synchronized boolean discard(UUID id) {
    Row row = rows.get(id);
    if (row == null || row.pending()) {
      return false;
    }
    rows.remove(id);
    return true;
  }

  @Override
  public synchronized Stats stats() {
    long pending = 0;
    long dead = 0;
    Map<Integer, Instant> headOfSlot = new HashMap<>();
    for (Row row : inWriteOrder()) {
      if (row.pending()) {
        pending++;
        headOfSlot.putIfAbsent(row.slot, row.event.createdAt());
      } else {
        dead++;
      }
    }
    return new Stats(pending, dead, headOfSlot.values().stream().min(Comparator.naturalOrder()));
  }

  @Override
  public void verifySchema() {}

  // ---------------------------------------------------------------- test views

  /** The row of {@code id} as the table holds it now, if any. */
  synchronized Optional<StoredRow> row(UUID id) {
    Row row = rows.get(id);
    return Optional.ofNullable(row).map(Row::snapshot);
  }

  synchronized List<StoredRow> rows() {
    return inWriteOrder().stream().map(Row::snapshot).toList();
  }

  /** Every completion recorded so far, in order, with the counts it returned. */
  synchronized List<Completion> completions() {
    return List.copyOf(completions);
  }

  /** How many times {@link #candidates} (the narrow read) was called. */
  synchronized int candidateReads() {
    return candidateReads;
  }

  /** How many times {@link #pendingKeys} (the key look-up of a closed destination) was called. */
  synchronized int keyLookUps() {
    return keyLookUps;
  }

  /** How many times {@link #prefetch} was called. */
  synchronized int prefetches() {
    return prefetches;
  }

  /**
   * From now on, {@link #candidates} and {@link #prefetch} fail when called on a thread {@code
   * which} accepts.
   */
  synchronized void failCandidatesOn(@Nullable Predicate<Thread> which) {
    this.failCandidatesOn = which;
  }

  private Instant now() {
    return clock.instant();
  }

  private List<Row> inWriteOrder() {
    List<Row> ordered = new ArrayList<>(rows.values());
    ordered.sort(Comparator.comparingLong(row -> row.seq));
    return ordered;
  }

  enum Status {
    PENDING,
    DEAD
  }

  /** A row as a test sees it. */
  record StoredRow(
      OutboxEvent event,
      Status status,
      int slot,
      int attempts,
      @Nullable String lastError,
      Instant availableAt) {}

  private static final class Row {
    final OutboxEvent event;
    final long seq;
    final int slot;
    Status status = Status.PENDING;
    int attempts;
    @Nullable String lastError;
    @Nullable Instant lastAttemptAt;
    Instant availableAt;

    Row(OutboxEvent event, long seq, int slot) {
      this.event = event;
      this.seq = seq;
      this.slot = slot;
      this.availableAt = event.createdAt();
    }

    boolean pending() {
      return status == Status.PENDING;
    }

    OutboxEvent current() {
      return new OutboxEvent(
          event.id(),
          seq,
          event.destination(),
          event.key(),
          event.aggregateType(),
          event.type(),
          event.version(),
          event.payload(),
          event.headers(),
          event.createdAt(),
          attempts);
    }

    StoredRow snapshot() {
      return new StoredRow(current(), status, slot, attempts, lastError, availableAt);
    }
  }

  private static final class Member {
    Instant expiresAt = Instant.MIN;
    boolean sessionAlive = true;
  }
}
