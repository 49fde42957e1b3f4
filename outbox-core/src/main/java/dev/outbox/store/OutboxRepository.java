package dev.outbox.store;

import dev.outbox.OutboxEvent;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
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
   * Whether any pending event is due now: new, or a retry whose wait is over (retries still waiting
   * do not count).
   */
  default boolean hasDueEvents() {
    return stats().pending() > 0;
  }

  /** Throws {@link dev.outbox.OutboxException} saying what to do if the table is missing. */
  void verifySchema();

  /** A snapshot of the table's state. */
  record Stats(long pending, long dead, Optional<Instant> oldestPending) {}

  /** A dead-lettered event with the error that ended it. */
  record DeadEvent(OutboxEvent event, String lastError, Instant deadAt) {}
}
