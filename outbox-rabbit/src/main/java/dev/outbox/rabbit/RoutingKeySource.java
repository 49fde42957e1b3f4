package dev.outbox.rabbit;

import dev.outbox.OutboxEvent;

/** The routing key used when an event's destination names only an exchange. */
public enum RoutingKeySource {

  /** The event type, e.g. {@code OrderPlaced}: lets consumers bind per type. */
  TYPE,

  /**
   * The event key (aggregate id), e.g. for consistent-hash exchanges; events without a key fall
   * back to the event type.
   */
  KEY;

  String routingKey(OutboxEvent event) {
    if (this == KEY && event.key() != null) {
      return event.key();
    }
    return event.type();
  }
}
