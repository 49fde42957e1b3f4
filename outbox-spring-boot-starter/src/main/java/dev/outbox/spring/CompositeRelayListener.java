package dev.outbox.spring;

import dev.outbox.OutboxEvent;
import dev.outbox.relay.RelayListener;
import java.time.Duration;
import java.util.List;

/** Forwards relay outcomes to several listeners. */
final class CompositeRelayListener implements RelayListener {

  private final List<RelayListener> listeners;

  private CompositeRelayListener(List<RelayListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  static RelayListener of(List<RelayListener> listeners) {
    if (listeners.isEmpty()) {
      return RelayListener.none();
    }
    return listeners.size() == 1 ? listeners.get(0) : new CompositeRelayListener(listeners);
  }

  @Override
  public void published(OutboxEvent event, Duration sinceWrite) {
    listeners.forEach(l -> l.published(event, sinceWrite));
  }

  @Override
  public void retried(OutboxEvent event, Throwable failure) {
    listeners.forEach(l -> l.retried(event, failure));
  }

  @Override
  public void deadLettered(OutboxEvent event, Throwable failure, boolean deadLetterSent) {
    listeners.forEach(l -> l.deadLettered(event, failure, deadLetterSent));
  }

  @Override
  public void cycleFailed(Throwable failure) {
    listeners.forEach(l -> l.cycleFailed(failure));
  }
}
