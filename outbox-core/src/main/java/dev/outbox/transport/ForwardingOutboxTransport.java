package dev.outbox.transport;

import dev.outbox.OutboxEvent;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A transport that hands every call to another one. Extend it to change some of the calls (trace
 * the sends, copy them, note their acknowledgements) and keep the others as the wrapped transport
 * has them: every method of {@link OutboxTransport} is forwarded, its default methods included, so
 * a wrapper never falls back to a default the wrapped transport overrides (a forgotten {@link
 * #maxBlock()} would hide a blocking client from the relay's timing checks).
 */
public abstract class ForwardingOutboxTransport implements OutboxTransport {

  private final OutboxTransport delegate;

  protected ForwardingOutboxTransport(OutboxTransport delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The transport the calls are handed to. */
  public final OutboxTransport delegate() {
    return delegate;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    return delegate.send(event);
  }

  @Override
  public void flush() {
    delegate.flush();
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
  public boolean isBrokerUnavailable(Throwable failure) {
    return delegate.isBrokerUnavailable(failure);
  }

  @Override
  public boolean isDestinationUnavailable(Throwable failure) {
    return delegate.isDestinationUnavailable(failure);
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
  public String deadLetterDestination(OutboxEvent event) {
    return delegate.deadLetterDestination(event);
  }
}
