package dev.outbox.inbox;

/** Told what the inbox did with each message, e.g. to count it. Implementations must not throw. */
public interface InboxListener {

  /** {@code consumer} handled {@code messageId} and its transaction committed. */
  default void handled(String consumer, String messageId) {}

  /** {@code consumer} skipped {@code messageId}: it had handled it before. */
  default void duplicate(String consumer, String messageId) {}

  /** A listener that does nothing. */
  static InboxListener none() {
    return new InboxListener() {};
  }
}
