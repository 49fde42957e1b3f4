package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A transport under the test's control. It records every send in order (event id, attempts as the
 * relay passed them) and completes its future as scripted: at once by default; failed a scripted
 * number of times per destination or per event id, with a {@link Kind retryable, non-retryable or
 * broker-unavailable} failure; or held pending until the test {@link #complete completes} or {@link
 * #fail fails} it. Thread-safe: the relay sends on its threads while the test scripts and reads.
 */
final class RecordingTransport implements OutboxTransport {

  /** The kinds of failure a send can be scripted to end with. */
  enum Kind {
    RETRYABLE,
    NON_RETRYABLE,
    BROKER_UNAVAILABLE,
    /** The destination alone refuses it (a topic without write permission, say). */
    DESTINATION_UNAVAILABLE;

    RuntimeException failure(OutboxEvent event) {
      return switch (this) {
        case RETRYABLE -> new Retryable("broker busy, event " + event.id());
        case NON_RETRYABLE -> new NonRetryable("record too large, event " + event.id());
        case BROKER_UNAVAILABLE -> new Unavailable("connection refused");
        case DESTINATION_UNAVAILABLE ->
            new Refused("not authorized to write to " + event.destination());
      };
    }
  }

  static final class Retryable extends RuntimeException {
    Retryable(String message) {
      super(message);
    }
  }

  static final class NonRetryable extends RuntimeException {
    NonRetryable(String message) {
      super(message);
    }
  }

  static class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  static final class Refused extends Unavailable {
    Refused(String message) {
      super(message);
    }
  }

  /** One send: what the relay handed over and the future it got back. */
  record Send(OutboxEvent event, CompletableFuture<Void> future) {
    UUID id() {
      return event.id();
    }

    int attempts() {
      return event.attempts();
    }
  }

  record DeadLettered(OutboxEvent event, DeadLetter deadLetter) {}

  private final List<Send> sends = new ArrayList<>();
  private final List<DeadLettered> deadLetters = new ArrayList<>();
  private final List<Throwable> classified = new ArrayList<>();
  private final Map<String, Script> byDestination = new HashMap<>();
  private final Map<UUID, Script> byId = new HashMap<>();
  private int flushes;
  private @Nullable Script deadLetterScript;
  private Duration maxBlock = Duration.ZERO;
  private Consumer<OutboxEvent> onSend = event -> {};

  private record Script(@Nullable Kind kind, int times) {}

  /** The next {@code times} sends to {@code destination} fail with a failure of {@code kind}. */
  synchronized RecordingTransport failDestination(String destination, int times, Kind kind) {
    byDestination.put(destination, new Script(kind, times));
    return this;
  }

  /** The next {@code times} sends of event {@code id} fail with a failure of {@code kind}. */
  synchronized RecordingTransport failEvent(UUID id, int times, Kind kind) {
    byId.put(id, new Script(kind, times));
    return this;
  }

  /** The next {@code times} dead-letter sends fail with a failure of {@code kind}. */
  synchronized RecordingTransport failDeadLetters(int times, Kind kind) {
    deadLetterScript = new Script(kind, times);
    return this;
  }

  /** The next {@code times} sends of event {@code id} stay pending until the test ends them. */
  synchronized RecordingTransport holdEvent(UUID id, int times) {
    byId.put(id, new Script(null, times));
    return this;
  }

  /** The next {@code times} sends to {@code destination} stay pending until the test ends them. */
  synchronized RecordingTransport holdDestination(String destination, int times) {
    byDestination.put(destination, new Script(null, times));
    return this;
  }

  /** Runs on the sending thread before each send is recorded, e.g. to let time pass. */
  synchronized RecordingTransport onSend(Consumer<OutboxEvent> onSend) {
    this.onSend = onSend;
    return this;
  }

  synchronized RecordingTransport maxBlock(Duration maxBlock) {
    this.maxBlock = maxBlock;
    return this;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    Consumer<OutboxEvent> hook;
    synchronized (this) {
      hook = onSend;
    }
    hook.accept(event);
    CompletableFuture<Void> future = new CompletableFuture<>();
    Script script;
    synchronized (this) {
      sends.add(new Send(event, future));
      script = take(byId, event.id());
      if (script == null) {
        script = take(byDestination, event.destination());
      }
    }
    if (script == null) {
      future.complete(null);
    } else if (script.kind() != null) {
      future.completeExceptionally(script.kind().failure(event));
    }
    return future;
  }

  private static <K> @Nullable Script take(Map<K, Script> scripts, K key) {
    Script script = scripts.get(key);
    if (script == null || script.times() <= 0) {
      return null;
    }
    if (script.times() == 1) {
      scripts.remove(key);
    } else {
      scripts.put(key, new Script(script.kind(), script.times() - 1));
    }
    return script;
  }

  /** Acknowledges every pending send of event {@code id}. Returns how many there were. */
  int complete(UUID id) {
    int completed = 0;
    for (Send send : sends()) {
      if (send.id().equals(id) && send.future().complete(null)) {
        completed++;
      }
    }
    return completed;
  }

  /** Fails every pending send of event {@code id} with {@code failure}. */
  int fail(UUID id, Throwable failure) {
    int failed = 0;
    for (Send send : sends()) {
      if (send.id().equals(id) && send.future().completeExceptionally(failure)) {
        failed++;
      }
    }
    return failed;
  }

  @Override
  public synchronized void flush() {
    flushes++;
  }

  @Override
  public synchronized CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter reason) {
    Script script = deadLetterScript;
    if (script != null && script.times() > 0 && script.kind() != null) {
      deadLetterScript = script.times() == 1 ? null : new Script(script.kind(), script.times() - 1);
      return CompletableFuture.failedFuture(script.kind().failure(event));
    }
    deadLetters.add(new DeadLettered(event, reason));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return !(failure instanceof NonRetryable);
  }

  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    synchronized (this) {
      classified.add(failure);
    }
    return failure instanceof Unavailable;
  }

  /** Every failure the relay asked {@link #isBrokerUnavailable} about, in order. */
  synchronized List<Throwable> classified() {
    return List.copyOf(classified);
  }

  @Override
  public boolean isDestinationUnavailable(Throwable failure) {
    return failure instanceof Refused;
  }

  @Override
  public synchronized Duration maxBlock() {
    return maxBlock;
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return event.destination() + ".dlq";
  }

  /** Every send so far, in order. */
  synchronized List<Send> sends() {
    return List.copyOf(sends);
  }

  /** The ids of every send so far, in order (an event sent twice appears twice). */
  synchronized List<UUID> sentIds() {
    return sends.stream().map(Send::id).toList();
  }

  synchronized boolean sent(UUID id) {
    return sends.stream().anyMatch(send -> send.id().equals(id));
  }

  synchronized List<DeadLettered> deadLetters() {
    return List.copyOf(deadLetters);
  }

  synchronized int flushes() {
    return flushes;
  }
}
