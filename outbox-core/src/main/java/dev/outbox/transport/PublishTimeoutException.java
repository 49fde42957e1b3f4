package dev.outbox.transport;

import java.util.concurrent.TimeoutException;

/**
 * The relay's own timeout: the broker acknowledged a message neither way within the publish
 * timeout. It says when the relay handed the message to the transport, so that a transport can tell
 * a broker that has answered nothing since then (the broker's failure, {@link
 * OutboxTransport#isBrokerUnavailable}) from one that answered other messages meanwhile (this
 * message's failure).
 */
public final class PublishTimeoutException extends TimeoutException {

  private static final long serialVersionUID = 1L;

  private final long sentNanos;

  public PublishTimeoutException(String message, long sentNanos) {
    super(message);
    this.sentNanos = sentNanos;
  }

  /** When the relay handed the message to the transport, as {@link System#nanoTime()} gives it. */
  public long sentNanos() {
    return sentNanos;
  }
}
