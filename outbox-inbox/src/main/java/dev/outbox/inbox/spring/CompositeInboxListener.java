package dev.outbox.inbox.spring;

import dev.outbox.inbox.InboxListener;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Tells several listeners, each in turn; one that throws does not stop the others. */
final class CompositeInboxListener implements InboxListener {

  private static final Logger log = LoggerFactory.getLogger(CompositeInboxListener.class);

  private final List<InboxListener> listeners;

  private CompositeInboxListener(List<InboxListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  static InboxListener of(List<InboxListener> listeners) {
    if (listeners.isEmpty()) {
      return InboxListener.none();
    }
    return listeners.size() == 1 ? listeners.get(0) : new CompositeInboxListener(listeners);
  }

  @Override
  public void handled(String consumer, String messageId) {
    for (InboxListener listener : listeners) {
      try {
        listener.handled(consumer, messageId);
      } catch (RuntimeException ex) {
        log.warn("Inbox listener {} failed: {}", listener, ex.toString());
      }
    }
  }

  @Override
  public void duplicate(String consumer, String messageId) {
    for (InboxListener listener : listeners) {
      try {
        listener.duplicate(consumer, messageId);
      } catch (RuntimeException ex) {
        log.warn("Inbox listener {} failed: {}", listener, ex.toString());
      }
    }
  }
}
