package dev.outbox.store;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/** The store SPI: the outbox table as the writer, the relay and the operator see it. */
public interface OutboxRepository extends RelayStore {

  /**
   * Appends events on the caller's connection (inside the caller's transaction) in one batched
   * statement. For each keyed event, takes a transaction-scoped lock on its key first, so a later
   * writer of the same key waits until this transaction ends (see docs/guarantees.md). The keys of
   * one call are locked in a fixed order; separate calls lock in call order, so two transactions
   * writing the same keys in opposite order in separate calls can deadlock, and PostgreSQL then
   * aborts one of them (the {@link dev.outbox.OutboxException} says so).
   */
  void append(Connection connection, List<OutboxEvent> events);

  /** Dead events, oldest first. */
  List<DeadEvent> findDead(int limit);

  /** Puts a dead event back to pending with zero attempts. Returns false if no such dead event. */
  boolean replay(UUID id);

  /** Deletes a dead event. Returns false if no such dead event. */
  boolean discard(UUID id);

  /** Counts of pending and dead events and the creation time of the oldest pending one. */
  Stats stats();

  /**
   * Whether any pending event is due now: new, or a retry whose wait is over, and not behind an
   * earlier event of its key that waits for its retry (retries still waiting do not count, nor what
   * they hold back).
   */
  default boolean hasDueEvents() {
    return stats().pending() > 0;
  }

  /**
   * Like {@link #stats()}, but counts at most {@code countLimit} pending and dead events each (a
   * count equal to the limit means "at least that many"), so the cost does not grow with the
   * backlog. Health checks use it. Stores that cannot bound their counts return {@link #stats()}.
   */
  default Stats statsUpTo(long countLimit) {
    Stats stats = stats();
    return new Stats(
        Math.min(stats.pending(), countLimit),
        Math.min(stats.dead(), countLimit),
        stats.oldestPending());
  }

  /** Dead events matching {@code filter}, oldest first, at most {@code limit}. */
  default List<DeadEvent> findDead(DeadEventFilter filter, int limit) {
    throw unsupported("findDead(filter, limit)");
  }

  /**
   * Puts every dead event matching {@code filter} back to pending with zero attempts, in batched
   * statements, and returns how many it replayed. Events that die while it runs are left alone.
   */
  default long replayDead(DeadEventFilter filter) {
    throw unsupported("replayDead(filter)");
  }

  /** Deletes every dead event matching {@code filter}, in batched statements; returns how many. */
  default long discardDead(DeadEventFilter filter) {
    throw unsupported("discardDead(filter)");
  }

  /**
   * Deletes the dead events that were dead-lettered more than {@code olderThan} ago, at most {@code
   * batchSize} per statement, and returns how many. At most one instance deletes a batch of a table
   * at a time: one that finds another purging returns empty without deleting anything, and one that
   * finds another has taken over between two of its batches returns what it deleted.
   */
  default OptionalLong purgeDead(Duration olderThan, int batchSize) {
    throw unsupported("purgeDead(olderThan, batchSize)");
  }

  /**
   * Pending events per destination, for operators: the count and the oldest creation time of each
   * destination among the oldest {@code perSlotLimit} pending events of every relay slot, so the
   * cost is bounded whatever the backlog. When a slot holds more, {@link Backlog#complete()} is
   * false and the counts are lower bounds. Stores without it throw {@link
   * UnsupportedOperationException}.
   */
  default Backlog backlog(int perSlotLimit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no backlog overview");
  }

  /**
   * Dead events grouped by destination, event type and the first {@value #DEAD_GROUP_ERROR_LENGTH}
   * characters of their last error, largest group first, among the {@code scanLimit} most recently
   * dead-lettered events; at most {@code groupLimit} groups. {@link DeadGroups#complete()} says
   * whether every dead event and every group is in the answer. Stores without it throw {@link
   * UnsupportedOperationException}.
   */
  default DeadGroups deadGroups(int scanLimit, int groupLimit) {
    throw new UnsupportedOperationException(getClass().getName() + " has no dead event groups");
  }

  /** How many leading characters of the last error group dead events in {@link #deadGroups}. */
  int DEAD_GROUP_ERROR_LENGTH = 200;

  private OutboxException unsupported(String operation) {
    return new OutboxException(
        getClass().getName() + " does not support the bulk dead event operation " + operation);
  }

  /** Throws {@link dev.outbox.OutboxException} saying what to do if the table is missing. */
  void verifySchema();

  /** A snapshot of the table's state. */
  record Stats(long pending, long dead, Optional<Instant> oldestPending) {}

  /** Pending events of one destination: how many, and when the oldest of them was written. */
  record DestinationBacklog(String destination, long pending, Instant oldestPending) {}

  /** Pending events per destination, with whether the counts cover every pending event. */
  record Backlog(List<DestinationBacklog> destinations, boolean complete) {}

  /**
   * Dead events sharing a destination, an event type and the start of their last error: how many,
   * and when the first and the last of them were dead-lettered.
   */
  record DeadGroup(
      String destination,
      String type,
      String error,
      long count,
      Instant firstDeadAt,
      Instant lastDeadAt) {}

  /** Groups of dead events, with whether they cover every dead event. */
  record DeadGroups(List<DeadGroup> groups, boolean complete) {}

  /** A dead-lettered event with the error that ended it. */
  record DeadEvent(OutboxEvent event, String lastError, Instant deadAt) {}
}
