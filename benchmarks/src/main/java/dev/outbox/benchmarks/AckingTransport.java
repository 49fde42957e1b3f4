package dev.outbox.benchmarks;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Wraps the application's {@link OutboxTransport} bean (installed by {@link OutboxApp.Wrappers}, a
 * {@code BeanPostProcessor}) and notes the instant the broker acknowledged each event (the future
 * of the send completing). Adds nothing else: every method of the interface is forwarded, which
 * {@link Delegation#requireAll} checks when the class loads.
 */
final class AckingTransport implements OutboxTransport, AutoCloseable {

  static {
    Delegation.requireAll(OutboxTransport.class, AckingTransport.class);
  }

  /** Receives each acknowledged event with the {@link System#nanoTime()} of its acknowledgement. */
  interface Acks {
    void acked(OutboxEvent event, long nanos);
  }

  private final OutboxTransport delegate;
  private final Acks acks;

  AckingTransport(OutboxTransport delegate, Acks acks) {
    this.delegate = delegate;
    this.acks = acks;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    CompletableFuture<?> sent = delegate.send(event);
    sent.whenComplete(
        (ignored, failure) -> {
          if (failure == null) {
            acks.acked(event, System.nanoTime());
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
  public Duration maxBlock() {
    return delegate.maxBlock();
  }

  @Override
  public int maxPayloadBytes() {
    return delegate.maxPayloadBytes();
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

  /** The context closes the wrapper instead of the bean it wraps: pass that on. */
  @Override
  public void close() throws Exception {
    if (delegate instanceof AutoCloseable closeable) {
      closeable.close();
    }
  }
}
