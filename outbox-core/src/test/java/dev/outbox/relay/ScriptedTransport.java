package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A transport whose failures are scripted per destination, for the relay's own logic (retries,
 * ordering, dead letters). What crosses the wire is tested against real brokers by the transport
 * modules' contract tests.
 */
final class ScriptedTransport implements OutboxTransport {

  /** A failure the relay must not retry. */
  static final class Fatal extends RuntimeException {
    Fatal(String message) {
      super(message);
    }
  }

  /** A failure meaning the whole broker is unreachable. */
  static final class Unreachable extends RuntimeException {
    Unreachable() {
      super("connection refused");
    }
  }

  record DeadLettered(OutboxEvent event, DeadLetter deadLetter) {}

  private final List<OutboxEvent> delivered = new CopyOnWriteArrayList<>();
  private final List<OutboxEvent> attempts = new CopyOnWriteArrayList<>();
  private final List<DeadLettered> deadLetters = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private final Map<String, RuntimeException> failureOf = new ConcurrentHashMap<>();

  /** The next {@code times} sends to {@code destination} fail with {@code failure}. */
  void fail(String destination, int times, RuntimeException failure) {
    failuresLeft.put(destination, new AtomicInteger(times));
    failureOf.put(destination, failure);
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    attempts.add(event);
    AtomicInteger left = failuresLeft.get(event.destination());
    if (left != null && left.getAndDecrement() > 0) {
      return CompletableFuture.failedFuture(failureOf.get(event.destination()));
    }
    delivered.add(event);
    return CompletableFuture.supplyAsync(() -> null);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    deadLetters.add(new DeadLettered(event, deadLetter));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return !(failure instanceof Fatal);
  }

  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    return failure instanceof Unreachable;
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return event.destination() + ".dead";
  }

  List<OutboxEvent> delivered() {
    return delivered;
  }

  List<OutboxEvent> attempts() {
    return attempts;
  }

  List<DeadLettered> deadLetters() {
    return deadLetters;
  }
}
