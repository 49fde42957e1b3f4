package dev.outbox.relay;

import dev.outbox.OutboxEvent;
import org.slf4j.MDC;

/**
 * The event a per-event log line is about, in the logging context (MDC) while the line is written:
 * {@value #ID}, {@value #DESTINATION} and, for keyed events, {@value #KEY}.
 */
final class EventContext implements AutoCloseable {

  static final String ID = "outbox.event.id";
  static final String DESTINATION = "outbox.event.destination";
  static final String KEY = "outbox.event.key";

  private final boolean keyed;

  private EventContext(OutboxEvent event) {
    MDC.put(ID, event.id().toString());
    MDC.put(DESTINATION, event.destination());
    keyed = event.key() != null;
    if (keyed) {
      MDC.put(KEY, event.key());
    }
  }

  static EventContext of(OutboxEvent event) {
    return new EventContext(event);
  }

  @Override
  public void close() {
    MDC.remove(ID);
    MDC.remove(DESTINATION);
    if (keyed) {
      MDC.remove(KEY);
    }
  }
}
