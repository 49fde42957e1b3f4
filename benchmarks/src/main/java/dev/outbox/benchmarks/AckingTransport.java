package dev.outbox.benchmarks;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.ForwardingOutboxTransport;
import dev.outbox.transport.OutboxTransport;
import java.util.concurrent.CompletableFuture;

/**
 * Wraps the application's {@link OutboxTransport} bean (installed by {@link OutboxApp.Wrappers}, a
 * {@code BeanPostProcessor}) and notes the instant the broker acknowledged each event (the future
 * of the send completing). Adds nothing else: every other method of the interface is forwarded
 * ({@link ForwardingOutboxTransport}).
 */
final class AckingTransport extends ForwardingOutboxTransport implements AutoCloseable {

  /** Receives each acknowledged event with the {@link System#nanoTime()} of its acknowledgement. */
  interface Acks {
    void acked(OutboxEvent event, long nanos);
  }

  private final Acks acks;

  AckingTransport(OutboxTransport delegate, Acks acks) {
    super(delegate);
    this.acks = acks;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    CompletableFuture<?> sent = delegate().send(event);
    sent.whenComplete(
        (ignored, failure) -> {
          if (failure == null) {
            acks.acked(event, System.nanoTime());
          }
        });
    return sent;
  }

  /** The context closes the wrapper instead of the bean it wraps: pass that on. */
  @Override
  public void close() throws Exception {
    if (delegate() instanceof AutoCloseable closeable) {
      closeable.close();
    }
  }
}
