package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.store.Claim;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one claimed batch: hands every event to the transport, waits once for all of them,
 * dead-letters what will not be tried again and records the outcome in one transaction.
 *
 * <p>Events of different keys are sent at once. A key's later events in the same batch are sent
 * only after its earlier event was acknowledged, so a failed event is never overtaken by a later
 * event of its key; the later ones stay pending, untouched, until the failed one is published or
 * dead.
 */
final class BatchPublisher {

  private static final Logger log = LoggerFactory.getLogger(BatchPublisher.class);

  static final long MIN_DEAD_LETTER_WAIT_MILLIS = 1000;

  private final OutboxTransport transport;
  private final RetryPolicy retryPolicy;
  private final Duration publishTimeout;
  private final RelayListener listener;
  private final Clock clock;
  private final Executor chainExecutor;

  BatchPublisher(
      OutboxTransport transport,
      RetryPolicy retryPolicy,
      Duration publishTimeout,
      RelayListener listener,
      Clock clock,
      Executor chainExecutor) {
    this.transport = transport;
    this.retryPolicy = retryPolicy;
    this.publishTimeout = publishTimeout;
    this.listener = listener;
    this.clock = clock;
    this.chainExecutor = chainExecutor;
  }

  /** Publishes the claim's events and completes the claim. Returns the number of events seen. */
  int publish(Claim claim) {
    List<OutboxEvent> events = claim.events();
    if (events.isEmpty()) {
      return 0;
    }
    Batch batch = new Batch();
    Map<UUID, CompletableFuture<?>> sends = dispatch(events, batch);
    flush();
    long deadline = System.nanoTime() + publishTimeout.toNanos();

    List<UUID> published = new ArrayList<>(events.size());
    List<Claim.Retry> retries = new ArrayList<>();
    List<Failed> dead = new ArrayList<>();
    Throwable brokerUnavailable = null;
    int kept = 0;
    Instant now = null;
    try {
      for (OutboxEvent event : events) {
        Throwable failure = await(sends.get(event.id()), deadline);
        if (failure == null) {
          published.add(event.id());
          continue;
        }
        if (failure instanceof Skipped || !batch.sent.contains(event.id())) {
          continue;
        }
        if (transport.isBrokerUnavailable(failure)) {
          brokerUnavailable = brokerUnavailable == null ? failure : brokerUnavailable;
          kept++;
          continue;
        }
        now = now == null ? clock.instant() : now;
        int attempts = event.attempts() + 1;
        boolean retryable = failure instanceof TimeoutException || transport.isRetryable(failure);
        if (retryable && !retryPolicy.isExhausted(attempts, event.createdAt(), now)) {
          Duration delay = retryPolicy.backoff(attempts);
          retries.add(new Claim.Retry(event.id(), attempts, delay, Failures.describe(failure)));
          log.warn(
              "Publishing event {} to {} failed (attempt {}); retrying in {} ms: {}",
              event.id(),
              event.destination(),
              attempts,
              delay.toMillis(),
              Failures.describe(failure));
          safely(() -> listener.retried(event, failure));
        } else {
          log.error(
              "Publishing event {} to {} failed (attempt {}, {}); dead-lettering to {}: {}",
              event.id(),
              event.destination(),
              attempts,
              retryable ? "retries exhausted" : "not retryable",
              transport.deadLetterDestination(event),
              Failures.describe(failure));
          dead.add(new Failed(event, attempts, failure));
        }
      }
    } finally {
      batch.closed = true;
    }
    List<Claim.Dead> deadRows = deadLetter(dead, deadline);
    claim.complete(published, retries, deadRows);
    recordPublished(events, published);
    if (brokerUnavailable != null) {
      throw new BrokerUnavailableException(kept, brokerUnavailable);
    }
    return events.size();
  }

  private void recordPublished(List<OutboxEvent> events, List<UUID> published) {
    if (published.isEmpty()) {
      return;
    }
    Instant now = clock.instant();
    Set<UUID> ids = Set.copyOf(published);
    for (OutboxEvent event : events) {
      if (ids.contains(event.id())) {
        Duration sinceWrite = Duration.between(event.createdAt(), now);
        safely(() -> listener.published(event, sinceWrite));
        log.debug("Published event {} to {}", event.id(), event.destination());
      }
    }
  }

  private Map<UUID, CompletableFuture<?>> dispatch(List<OutboxEvent> events, Batch batch) {
    Map<UUID, CompletableFuture<?>> sends = new HashMap<>(events.size() * 2);
    Map<String, CompletableFuture<?>> lastOfKey = new HashMap<>();
    for (OutboxEvent event : events) {
      CompletableFuture<?> previous = event.key() == null ? null : lastOfKey.get(event.key());
      CompletableFuture<?> send;
      if (previous == null) {
        send = send(event, batch);
      } else {
        send =
            previous
                .handleAsync(
                    (ignored, failure) ->
                        failure == null && !batch.closed
                            ? sendChained(event, batch)
                            : CompletableFuture.failedFuture(new Skipped()),
                    chainExecutor)
                .thenCompose(future -> future);
      }
      sends.put(event.id(), send);
      if (event.key() != null) {
        lastOfKey.put(event.key(), send);
      }
    }
    return sends;
  }

  private CompletableFuture<?> send(OutboxEvent event, Batch batch) {
    batch.sent.add(event.id());
    try {
      return transport.send(event);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(ex);
    }
  }

  /** A later event of a key, sent once the earlier one was acknowledged; flushed at once. */
  private CompletableFuture<?> sendChained(OutboxEvent event, Batch batch) {
    CompletableFuture<?> send = send(event, batch);
    flush();
    return send;
  }

  private void flush() {
    try {
      transport.flush();
    } catch (RuntimeException ex) {
      log.debug("Transport flush failed: {}", ex.getMessage());
    }
  }

  /** Waits for a future until the deadline; returns its failure, or null on success. */
  private Throwable await(CompletableFuture<?> future, long deadline) {
    try {
      future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return null;
    } catch (ExecutionException ex) {
      return Failures.unwrap(ex);
    } catch (TimeoutException ex) {
      return new TimeoutException(
          "no acknowledgement from the broker within " + publishTimeout.toMillis() + " ms");
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new OutboxException("Interrupted while waiting for the broker", ex);
    }
  }

  /**
   * Sends the dead letters and waits for them within the batch's deadline (at least {@value
   * #MIN_DEAD_LETTER_WAIT_MILLIS} ms), so the claim is never held longer than about one publish
   * timeout.
   */
  private List<Claim.Dead> deadLetter(List<Failed> dead, long batchDeadline) {
    if (dead.isEmpty()) {
      return List.of();
    }
    List<CompletableFuture<?>> sends = new ArrayList<>(dead.size());
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
    long deadline =
        Math.max(batchDeadline, System.nanoTime() + MIN_DEAD_LETTER_WAIT_MILLIS * 1_000_000);
    List<Claim.Dead> rows = new ArrayList<>(dead.size());
    for (int i = 0; i < dead.size(); i++) {
      Failed failed = dead.get(i);
      Throwable dlqFailure = await(sends.get(i), deadline);
      String error = Failures.describe(failed.failure);
      if (dlqFailure != null) {
        error += " [dead-letter send failed: " + Failures.describe(dlqFailure) + "]";
        log.error(
            "Dead-letter send of event {} to {} failed; it stays DEAD in the table: {}",
            failed.event.id(),
            transport.deadLetterDestination(failed.event),
            Failures.describe(dlqFailure));
      }
      rows.add(new Claim.Dead(failed.event.id(), failed.attempts, error));
      boolean sent = dlqFailure == null;
      safely(() -> listener.deadLettered(failed.event, failed.failure, sent));
    }
    return rows;
  }

  /** Runs a listener callback; a failing listener is logged, never fails the batch. */
  private static void safely(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException ex) {
      log.warn("A relay listener failed; ignoring it", ex);
    }
  }

  /** Per-batch state shared with chained sends. */
  private static final class Batch {
    final Set<UUID> sent = ConcurrentHashMap.newKeySet();
    volatile boolean closed;
  }

  private record Failed(OutboxEvent event, int attempts, Throwable failure) {}

  /** Marks a send that was not attempted because an earlier event of its key failed. */
  private static final class Skipped extends RuntimeException {
    Skipped() {
      super("an earlier event of the same key failed", null, false, false);
    }
  }
}
