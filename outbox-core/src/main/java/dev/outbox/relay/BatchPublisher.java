package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.relay.SlotScheduler.Grant;
import dev.outbox.store.RelayStore;
import dev.outbox.store.RelayStore.Candidate;
import dev.outbox.store.RelayStore.Completion;
import dev.outbox.store.RelayStore.Loaded;
import dev.outbox.store.RelayStore.Prefetched;
import dev.outbox.store.RelayStore.Undecodable;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import dev.outbox.transport.PublishTimeoutException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Publishes one batch from a worker's slots: reads the oldest pending rows (narrow), picks for each
 * key the events that may go now, loads their payloads, sends them, waits for the acknowledgements,
 * and records the outcome — each step a short statement of its own, none open while the broker is
 * awaited. While the slots are nearly empty (the last batch was not full), the rows and their
 * payloads are read in one statement instead of two.
 *
 * <p>A key's first event in the batch is sent at once; each later event of the key is sent by this
 * same thread only after the one before it was acknowledged, so a failed event is never overtaken.
 * A key whose oldest row waits for a retry is held back until that retry is due.
 */
final class BatchPublisher {

  private static final Logger log = LoggerFactory.getLogger(BatchPublisher.class);

  /** The fewest rows read per slot, so a slot with a few held-back keys still yields work. */
  static final int MIN_ROWS_PER_SLOT = 16;

  private static final List<Integer> ALL_SLOTS =
      IntStream.range(0, RelayStore.SLOTS).boxed().toList();

  private final RelayStore store;
  private final OutboxTransport transport;
  private final RetryPolicy retryPolicy;
  private final RelayTiming timing;
  private final RelayListener listener;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final HeldKeys heldKeys;
  private final SlotScheduler scheduler;
  private final String member;
  private final int batchSize;

  BatchPublisher(
      RelayStore store,
      OutboxTransport transport,
      RetryPolicy retryPolicy,
      RelayTiming timing,
      RelayListener listener,
      Clock clock,
      LongSupplier nanoTime,
      HeldKeys heldKeys,
      SlotScheduler scheduler,
      String member,
      int batchSize) {
    this.store = store;
    this.transport = transport;
    this.retryPolicy = retryPolicy;
    this.timing = timing;
    this.listener = listener;
    this.clock = clock;
    this.nanoTime = nanoTime;
    this.heldKeys = heldKeys;
    this.scheduler = scheduler;
    this.member = member;
    this.batchSize = batchSize;
  }

  private Level transientFailureLevel = OutboxDefaults.TRANSIENT_FAILURE_LOG_LEVEL;

  /**
   * Whether the next batch reads its rows with their payloads in one statement ({@link
   * RelayStore#prefetch}): while the last batch found its slots nearly empty. After a full batch
   * the rows are read narrow and only the payloads to send are loaded. Confined to the worker's
   * thread, like the publisher.
   */
  private boolean prefetch = true;

  /**
   * When the batch under way started (the relay's monotonic clock): a destination closed since then
   * is not opened by an event of this batch that went through. Confined to the worker's thread.
   */
  private long batchStarted;

  /** The level of the one line per batch that says how many events failed and will be retried. */
  BatchPublisher transientFailureLevel(Level level) {
    this.transientFailureLevel = level;
    return this;
  }

  /** What a batch did. */
  record Outcome(int attempted, boolean more) {
    static final Outcome IDLE = new Outcome(0, false);
  }

  Outcome publish(Grant grant) {
    Outcome outcome = publishOnce(grant);
    prefetch = !outcome.more();
    return outcome;
  }

  private Outcome publishOnce(Grant grant) {
    batchStarted = nanoTime.getAsLong();
    int perSlot =
        Math.min(batchSize, Math.max(MIN_ROWS_PER_SLOT, 2 * batchSize / grant.slots().size()));
    List<Candidate> candidates;
    @Nullable Loaded prefetched = null;
    boolean truncated = false;
    // Fenced by the grant's tokens: only the slots still held under them are read, so a relay that
    // lost slots without knowing it yet (its session ended and another instance took them) reads
    // nothing of them, not events their new owner is publishing.
    if (prefetch) {
      // Few rows were pending at the last look: read them with their payloads, a batch at most.
      Prefetched read =
          store.prefetch(grant.slots(), grant.tokens(), perSlot, batchSize, heldKeys.current());
      candidates = read.candidates();
      prefetched = read.loaded();
      truncated = candidates.size() >= batchSize;
    } else {
      candidates = store.candidates(grant.slots(), grant.tokens(), perSlot, heldKeys.current());
    }
    if (candidates.isEmpty()) {
      // Empty slots, or slots lost to another instance: either way nothing to read again until a
      // wake-up or the next renewal (which also drops the lost slots from this relay's view).
      return Outcome.IDLE;
    }
    Plan plan = plan(candidates, perSlot, truncated);
    if (plan.chains.isEmpty()) {
      // Every key read waits for a retry and is now held back: rows left behind them are read next
      return new Outcome(0, plan.more);
    }
    Loaded read = prefetched != null ? prefetched.only(plan.ids) : store.load(plan.ids);
    Map<UUID, OutboxEvent> loaded = new HashMap<>();
    for (OutboxEvent event : read.events()) {
      loaded.put(event.id(), event);
    }
    List<Chain> chains = new ArrayList<>(plan.chains.size());
    for (List<UUID> ids : plan.chains) {
      Chain chain = new Chain();
      for (UUID id : ids) {
        OutboxEvent event = loaded.get(id);
        if (event == null) {
          break; // completed by someone else meanwhile; the rest of the key waits for a new read
        }
        chain.events.add(event);
      }
      if (!chain.events.isEmpty()) {
        chains.add(chain);
      }
    }
    if (!scheduler.holds(grant)) {
      // Frozen or cut off since the slots were granted: the lease is no longer known to be ours.
      // Send nothing; the slots' owner (this relay after it renewed, or another) reads them again
      // when its lease renewal finds them pending.
      log.debug("Lease of {} slot(s) no longer known to be held; batch not sent", grant.size());
      return new Outcome(0, false);
    }
    Sent sent = send(grant, chains);
    record(grant, sent, read.undecodable());
    Duration took = Duration.ofNanos(nanoTime.getAsLong() - batchStarted);
    safely(() -> listener.batchCompleted(sent.attempted, took));
    return new Outcome(
        sent.attempted,
        plan.more
            || plan.ids.size() >= batchSize
            || !read.undecodable().isEmpty()
            || sent.cutShort);
  }

  /** The chains of event ids to send: per key, its oldest due events, in write order. */
  private Plan plan(List<Candidate> candidates, int perSlot, boolean truncated) {
    Map<String, List<UUID>> byKey = new LinkedHashMap<>();
    List<List<UUID>> chains = new ArrayList<>();
    Set<String> stopped = new HashSet<>();
    Map<Integer, Integer> rowsPerSlot = new HashMap<>();
    List<UUID> ids = new ArrayList<>();
    for (Candidate candidate : candidates) {
      rowsPerSlot.merge(candidate.slot(), 1, Integer::sum);
      if (ids.size() >= batchSize) {
        continue;
      }
      String key = candidate.key();
      if (key == null) {
        if (candidate.due()) {
          chains.add(List.of(candidate.id()));
          ids.add(candidate.id());
        }
        continue;
      }
      if (stopped.contains(key)) {
        continue;
      }
      if (!candidate.due()) {
        heldKeys.hold(key, candidate.waitMillis());
        stopped.add(key);
        continue;
      }
      List<UUID> chain = byKey.get(key);
      if (chain == null) {
        chain = new ArrayList<>();
        byKey.put(key, chain);
        chains.add(chain);
      }
      chain.add(candidate.id());
      ids.add(candidate.id());
    }
    boolean more = truncated || rowsPerSlot.values().stream().anyMatch(rows -> rows >= perSlot);
    return new Plan(chains, ids, more);
  }

  private record Plan(List<List<UUID>> chains, List<UUID> ids, boolean more) {}

  /** Sends the chains; a chain's next event goes out on this thread once the previous is acked. */
  private Sent send(Grant grant, List<Chain> chains) {
    LinkedBlockingQueue<Ack> acks = new LinkedBlockingQueue<>();
    long deadline = nanoTime.getAsLong() + timing.publishTimeout().toNanos();
    int outstanding = 0;
    Sent sent = new Sent();
    for (Chain chain : chains) {
      if (!scheduler.holds(grant)) {
        break; // frozen or cut off mid-batch: the unsent chains stay pending, untouched
      }
      if (outstanding > 0 && deadline - nanoTime.getAsLong() <= 0) {
        // Sends blocked in the transport (Kafka with a full buffer or without a topic's metadata)
        // used up the batch: the unsent chains stay pending, untouched, for the next batch
        sent.cutShort = true;
        break;
      }
      sendNext(chain, acks);
      outstanding++;
    }
    flush();
    List<Ack> ready = new ArrayList<>();
    try {
      while (outstanding > 0) {
        long remaining = deadline - nanoTime.getAsLong();
        Ack first = remaining > 0 ? acks.poll(remaining, TimeUnit.NANOSECONDS) : acks.poll();
        if (first == null) {
          break;
        }
        ready.clear();
        ready.add(first);
        acks.drainTo(ready);
        boolean sentMore = false;
        for (Ack ack : ready) {
          Chain chain = ack.chain;
          if (ack.failure == null) {
            sent.published.add(ack.event);
            if (chain.hasNext() && deadline - nanoTime.getAsLong() > 0 && scheduler.holds(grant)) {
              sendNext(chain, acks);
              sentMore = true;
              continue;
            }
          } else if (!interrupted(ack.failure)) {
            sent.failed.add(new Failed(ack.event, 0, ack.failure, true));
          } // else the relay is stopping this thread: neither the event's failure nor the broker's
          chain.done = true;
          outstanding--;
        }
        if (sentMore) {
          flush();
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new OutboxException("Interrupted while waiting for the broker", ex);
    }
    for (Chain chain : chains) {
      if (!chain.done && chain.inFlight != null && chain.sent > 1) {
        // Sent after an earlier event of its key was acknowledged, so it had less than the publish
        // timeout: neither the event's failure nor the broker's. It stays pending, uncharged, and
        // goes first in its key's next batch (the broker may deliver both copies, same id).
        log.debug(
            "Event {} to {} was not acknowledged by the end of its batch; it is sent again",
            chain.inFlight.id(),
            chain.inFlight.destination());
      } else if (!chain.done && chain.inFlight != null) {
        sent.failed.add(
            new Failed(
                chain.inFlight,
                0,
                new PublishTimeoutException(
                    "no acknowledgement from the broker within "
                        + timing.publishTimeout().toMillis()
                        + " ms",
                    chain.inFlightSentNanos),
                true));
      }
      sent.attempted += chain.sent;
    }
    return sent;
  }

  private void sendNext(Chain chain, LinkedBlockingQueue<Ack> acks) {
    OutboxEvent event = chain.events.poll();
    chain.inFlight = event;
    chain.inFlightSentNanos = System.nanoTime();
    chain.sent++;
    CompletableFuture<?> future;
    try {
      future = transport.send(event);
    } catch (RuntimeException ex) {
      future = CompletableFuture.failedFuture(ex);
    }
    future.whenComplete(
        (ignored, failure) ->
            acks.add(new Ack(chain, event, failure == null ? null : Failures.unwrap(failure))));
  }

  /**
   * Whether a send failed because this thread was interrupted (the relay stopping it while the send
   * blocked, e.g. Kafka's {@code InterruptException} with a full producer buffer): the thread is
   * still interrupted and the failure says so. The event stays pending, uncharged. A socket's read
   * timeout, also an {@link InterruptedIOException}, is a failure like any other.
   */
  private static boolean interrupted(Throwable failure) {
    if (!Thread.currentThread().isInterrupted()) {
      return false;
    }
    Throwable cause = failure;
    for (int depth = 0; cause != null && depth < 16; depth++, cause = cause.getCause()) {
      if (cause instanceof InterruptedException
          || cause instanceof ClosedByInterruptException
          || (cause instanceof InterruptedIOException
              && !(cause instanceof SocketTimeoutException))) {
        return true;
      }
    }
    return false;
  }

  private void flush() {
    try {
      transport.flush();
    } catch (RuntimeException ex) {
      log.debug("Transport flush failed: {}", ex.getMessage());
    }
  }

  /**
   * Classifies the failures, dead-letters what is final and records the outcome, fenced. Rows that
   * could not be decoded are set DEAD with the reason (there is no message to dead-letter).
   */
  private void record(Grant grant, Sent sent, List<Undecodable> undecodable) {
    List<RelayStore.Retry> retries = new ArrayList<>();
    List<Failed> dead = new ArrayList<>();
    List<Failed> retried = new ArrayList<>();
    Kept kept = new Kept();
    Map<String, List<String>> closedKeys = new HashMap<>();
    Map<String, Long> retryHolds = new HashMap<>();
    Instant now = clock.instant();
    boolean owner = scheduler.holds(grant);
    for (Failed failedSend : sent.failed) {
      OutboxEvent event = failedSend.event;
      Throwable failure = failedSend.failure;
      if (transport.isBrokerUnavailable(failure)) {
        if (transport.isDestinationUnavailable(failure)) {
          // Held back with its key, or, unkeyed, with its destination
          kept.refusal(failure, true);
          List<String> keys =
              closedKeys.computeIfAbsent(event.destination(), d -> new ArrayList<>());
          if (event.key() != null) {
            keys.add(event.key());
          }
        } else {
          kept.outage(failure);
        }
        continue;
      }
      int attempts = event.attempts() + 1;
      boolean retryable = failure instanceof TimeoutException || transport.isRetryable(failure);
      if (retryable && !retryPolicy.isExhausted(attempts, event.createdAt(), now)) {
        Duration delay = retryPolicy.backoff(attempts);
        retries.add(new RelayStore.Retry(event.id(), attempts, delay, Failures.describe(failure)));
        if (event.key() != null) {
          retryHolds.put(event.key(), delay.toMillis());
        }
        if (log.isDebugEnabled()) {
          try (EventContext context = EventContext.of(event)) {
            log.debug(
                "Publishing event {} to {} failed (attempt {}); retrying in {} ms: {}",
                event.id(),
                event.destination(),
                attempts,
                delay.toMillis(),
                Failures.describe(failure));
          }
        }
        retried.add(failedSend);
        safely(() -> listener.retried(event, failure));
      } else if (!owner) {
        // The slot's owner may be publishing this very event: no dead letter from a relay that
        // may have lost the slot. The event stays pending, uncharged, for the owner.
        log.warn(
            "Publishing event {} to {} failed (attempt {}, {}); not dead-lettered, since this relay"
                + " no longer knows it holds the event's slot: left pending for the slot's owner:"
                + " {}",
            event.id(),
            event.destination(),
            attempts,
            retryable ? "retries exhausted" : "not retryable",
            Failures.describe(failure));
      } else {
        dead.add(new Failed(event, attempts, failure, retryable));
      }
    }
    if (!retried.isEmpty()) {
      log.atLevel(transientFailureLevel)
          .log(
              "Outbox relay: {} event(s) failed and will be retried: {}",
              retried.size(),
              FailureSummary.of(
                  retried, f -> f.event, f -> f.event.attempts() + 1, f -> f.failure));
    }
    DeadLetters deadLetters = deadLetter(dead);
    List<RelayStore.Dead> deadRows = new ArrayList<>(deadLetters.rows);
    kept.add(deadLetters.kept);
    for (Undecodable row : undecodable) {
      log.error(
          "Event {} cannot be published and is set DEAD (no dead letter sent): {}",
          row.id(),
          row.reason());
      deadRows.add(new RelayStore.Dead(row.id(), row.attempts() + 1, row.reason()));
      safely(() -> listener.undecodable(row.id(), row.reason()));
    }
    List<UUID> published = new ArrayList<>(sent.published.size());
    for (OutboxEvent event : sent.published) {
      published.add(event.id());
    }
    Completion completion = store.complete(member, grant.tokens(), published, retries, deadRows);
    int expected = published.size() + retries.size() + deadRows.size();
    if (completion.retried() == retries.size()) {
      retryHolds.forEach(heldKeys::hold);
    }
    // Otherwise some retries were fenced off: those events are pending, due at once, for the
    // slot's new owner. No key is held for a retry the table may not have, which would stall its
    // key here should the slot come back; the next read holds each key the table says is not yet
    // due. (Nor is any held if the completion failed: the events stay as they were, uncharged.)
    if (completion.total() < expected) {
      log.warn(
          "Outbox relay lost the lease of some of the {} slot(s) of a batch to another instance:"
              + " {} of {} outcome(s) not recorded; those events stay pending and are published"
              + " again by the slots' new owner (same ids)",
          grant.slots().size(),
          expected - completion.total(),
          expected);
    }
    recordPublished(sent.published);
    if (heldKeys.anyClosures()) {
      for (OutboxEvent event : sent.published) {
        heldKeys.opened(event.destination(), batchStarted);
      }
    }
    closedKeys.forEach((destination, keys) -> holdBack(destination, keys, true));
    // No event is written to a dead-letter destination: no pending keys to look up.
    deadLetters.closedKeys.forEach((destination, keys) -> holdBack(destination, keys, false));
    kept.throwIfAny();
  }

  /**
   * Closes a destination that refused events on its own ({@link
   * OutboxTransport#isDestinationUnavailable}), which leaves its unkeyed events out of the next
   * reads, and holds back keys: those of the events just refused and, with {@code lookUp} when its
   * closure is new, those of its pending events among the next rows of every slot, so that the next
   * batches read the events of other destinations behind them instead of its events again.
   */
  private void holdBack(String destination, List<String> refused, boolean lookUp) {
    HeldKeys.Closing closing = heldKeys.close(destination, timing.maxErrorBackoff());
    long millis = closing.hold().toMillis();
    refused.forEach(key -> heldKeys.hold(key, millis));
    if (!lookUp || !closing.lookUpKeys()) {
      return;
    }
    List<String> pending;
    try {
      pending = store.pendingKeys(destination, ALL_SLOTS, keyLookupDepth());
    } catch (RuntimeException ex) {
      log.debug(
          "Could not look up the keys of pending events to {}: {}", destination, ex.getMessage());
      return;
    }
    pending.forEach(key -> heldKeys.hold(key, millis));
    log.debug(
        "Destination {} refuses events: {} key(s) held back for {} ms",
        destination,
        pending.size(),
        millis);
  }

  /** How many of each slot's oldest rows the look-up of a closed destination's keys reads. */
  private int keyLookupDepth() {
    return Math.max(MIN_ROWS_PER_SLOT, batchSize / 8);
  }

  private void recordPublished(List<OutboxEvent> published) {
    if (published.isEmpty()) {
      return;
    }
    Instant now = clock.instant();
    for (OutboxEvent event : published) {
      Duration sinceWrite = Duration.between(event.createdAt(), now);
      safely(() -> listener.published(event, sinceWrite));
      log.debug("Published event {} to {}", event.id(), event.destination());
    }
  }

  /**
   * Sends the dead letters and waits for them, at least {@link RelayTiming#MIN_DEAD_LETTER_WAIT}.
   * An event whose dead letter the transport reports as {@link OutboxTransport#isBrokerUnavailable
   * unavailable} (the dead-letter destination is missing or may not be written, the broker is away)
   * is kept as it was: no attempt charged, not DEAD, so no event is ever DEAD without its dead
   * letter for such a reason; it is tried again, and dead-lettered, once the destination takes it.
   */
  private DeadLetters deadLetter(List<Failed> dead) {
    if (dead.isEmpty()) {
      return DeadLetters.none();
    }
    List<CompletableFuture<?>> sends = new ArrayList<>(dead.size());
    long sentNanos = System.nanoTime();
    for (Failed failed : dead) {
      DeadLetter reason = DeadLetter.of(failed.failure, failed.attempts);
      CompletableFuture<?> send;
      try {
        send = transport.sendToDeadLetter(failed.event, reason);
      } catch (RuntimeException ex) {
        send = CompletableFuture.failedFuture(ex);
      }
      sends.add(send);
    }
    flush();
    long deadline =
        nanoTime.getAsLong()
            + Math.max(
                timing.publishTimeout().toNanos(), RelayTiming.MIN_DEAD_LETTER_WAIT.toNanos());
    List<RelayStore.Dead> rows = new ArrayList<>(dead.size());
    List<Failed> deadLettered = new ArrayList<>(dead.size());
    Kept kept = new Kept();
    Map<String, List<String>> closedKeys = new HashMap<>();
    for (int i = 0; i < dead.size(); i++) {
      Failed failed = dead.get(i);
      Throwable dlqFailure = await(sends.get(i), deadline, sentNanos);
      String deadLetterDestination = transport.deadLetterDestination(failed.event);
      if (dlqFailure != null && transport.isBrokerUnavailable(dlqFailure)) {
        if (!transport.isDestinationUnavailable(dlqFailure)) {
          kept.outage(dlqFailure);
        } else if (failed.event.key() != null) {
          kept.refusal(dlqFailure, true);
          closedKeys
              .computeIfAbsent(deadLetterDestination, d -> new ArrayList<>())
              .add(failed.event.key());
        } else {
          // Refused by the dead-letter destination alone, but an unkeyed event cannot be held
          // back with it: its own destination takes events, so it would be read again at once
          kept.refusal(dlqFailure, false);
        }
        continue;
      }
      if (dlqFailure == null && heldKeys.anyClosures()) {
        heldKeys.opened(deadLetterDestination, batchStarted);
      }
      if (log.isDebugEnabled()) {
        try (EventContext context = EventContext.of(failed.event)) {
          log.debug(
              "Publishing event {} to {} failed (attempt {}, {}); dead-lettering to {}: {}",
              failed.event.id(),
              failed.event.destination(),
              failed.attempts,
              failed.retryable ? "retries exhausted" : "not retryable",
              deadLetterDestination,
              Failures.describe(failed.failure));
        }
      }
      deadLettered.add(failed);
      String error = Failures.describe(failed.failure);
      if (dlqFailure != null) {
        error += " [dead-letter send failed: " + Failures.describe(dlqFailure) + "]";
        log.error(
            "Dead-letter send of event {} to {} failed; it stays DEAD in the table: {}",
            failed.event.id(),
            deadLetterDestination,
            Failures.describe(dlqFailure));
      }
      rows.add(new RelayStore.Dead(failed.event.id(), failed.attempts, error));
      boolean delivered = dlqFailure == null;
      safely(() -> listener.deadLettered(failed.event, failed.failure, delivered));
    }
    if (!deadLettered.isEmpty()) {
      log.error(
          "Outbox relay: {} event(s) failed for good and are dead-lettered (DEAD in the table): {}",
          deadLettered.size(),
          FailureSummary.of(deadLettered, f -> f.event, f -> f.attempts, f -> f.failure));
    }
    return new DeadLetters(rows, kept, closedKeys);
  }

  /**
   * The events marked DEAD, those kept because their dead letter could not be sent now, and the
   * keys of those held back with their dead-letter destination, per destination.
   */
  private record DeadLetters(
      List<RelayStore.Dead> rows, Kept kept, Map<String, List<String>> closedKeys) {
    static DeadLetters none() {
      return new DeadLetters(List.of(), new Kept(), Map.of());
    }
  }

  /**
   * The events of a batch kept for the next attempt, uncharged: how many, the first for which the
   * broker could not be reached and the first its destination alone refused (the broker answering),
   * and whether each was held back. The batch's failure names the broker if any event was kept for
   * it, and then has that event's failure as its cause, whichever came first: an outage is the more
   * urgent news, and a cause that names a refusing destination would contradict it.
   */
  private static final class Kept {
    private int count;
    private @Nullable Throwable outage;
    private @Nullable Throwable refusal;
    private boolean allHeldBack = true;

    void outage(Throwable failure) {
      count++;
      allHeldBack = false;
      if (outage == null) {
        outage = failure;
      }
    }

    void refusal(Throwable failure, boolean heldBack) {
      count++;
      allHeldBack &= heldBack;
      if (refusal == null) {
        refusal = failure;
      }
    }

    void add(Kept other) {
      count += other.count;
      allHeldBack &= other.allHeldBack;
      outage = outage != null ? outage : other.outage;
      refusal = refusal != null ? refusal : other.refusal;
    }

    void throwIfAny() {
      if (outage != null) {
        throw new BrokerUnavailableException(count, false, false, outage);
      }
      if (refusal != null) {
        throw new BrokerUnavailableException(count, true, allHeldBack, refusal);
      }
    }
  }

  private @Nullable Throwable await(CompletableFuture<?> future, long deadline, long sentNanos) {
    try {
      future.get(Math.max(0, deadline - nanoTime.getAsLong()), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException ex) {
      return Failures.unwrap(ex);
    } catch (TimeoutException ex) {
      return new PublishTimeoutException("no acknowledgement from the broker in time", sentNanos);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new OutboxException("Interrupted while waiting for the broker", ex);
    }
  }

  /** Runs a listener callback; a failing listener is logged, never fails the batch. */
  private static void safely(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException ex) {
      log.warn("A relay listener failed; ignoring it", ex);
    }
  }

  /** The events of one key (or one unkeyed event) in this batch. */
  private static final class Chain {
    final ArrayDeque<OutboxEvent> events = new ArrayDeque<>();
    @Nullable OutboxEvent inFlight;
    long inFlightSentNanos;
    int sent;
    boolean done;

    boolean hasNext() {
      return !events.isEmpty();
    }
  }

  private record Ack(Chain chain, OutboxEvent event, @Nullable Throwable failure) {}

  private static final class Sent {
    final List<OutboxEvent> published = new ArrayList<>();
    final List<Failed> failed = new ArrayList<>();
    int attempted;
    boolean cutShort; // keys left unsent at the deadline: their slots are read again at once
  }

  private record Failed(OutboxEvent event, int attempts, Throwable failure, boolean retryable) {}
}
