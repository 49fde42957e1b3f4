package dev.outbox.spring;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-memory transport for the starter's tests, which are about writing and transaction
 * participation; what crosses the wire is tested against real brokers in outbox-kafka and
 * outbox-rabbit.
 */
public class RecordingTransport implements OutboxTransport {

  private final List<OutboxEvent> sent = new CopyOnWriteArrayList<>();

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    sent.add(event);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return true;
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return event.destination() + "-dead";
  }

  public List<OutboxEvent> sent() {
    return sent;
  }

  public void clear() {
    sent.clear();
  }
}
