package dev.outbox.benchmarks;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.util.concurrent.CompletableFuture;

/**
 * Wraps the real transport and notes the instant the broker acknowledged each event (the future of
 * the send completing), by the event number in its payload. Adds nothing else.
 */
final class AckingTransport implements OutboxTransport {

  static {
    Delegation.requireAll(OutboxTransport.class, AckingTransport.class);
  }

  private final OutboxTransport delegate;
  private final Timeline timeline;

  AckingTransport(OutboxTransport delegate, Timeline timeline) {
    this.delegate = delegate;
    this.timeline = timeline;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    CompletableFuture<?> sent = delegate.send(event);
    sent.whenComplete(
        (ignored, failure) -> {
          if (failure == null) {
            timeline.acked(OrderEvent.parseN(event.payload()), System.nanoTime());
          }
        });
    return sent;
  }

  @Override
  public void flush() {
    delegate.flush();
  }

  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    return delegate.isBrokerUnavailable(failure);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    return delegate.sendToDeadLetter(event, deadLetter);
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return delegate.isRetryable(failure);
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return delegate.deadLetterDestination(event);
  }
}
