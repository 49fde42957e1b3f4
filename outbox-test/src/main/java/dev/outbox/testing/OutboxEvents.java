package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of outbox events in the order they were written or published: what a {@link
 * CapturingOutboxTransport} received, or what is in the outbox table. Filter it with {@link
 * #ofType}, {@link #to} and {@link #withKey}; assert on it with {@link
 * OutboxAssertions#assertThat(OutboxEvents)}.
 */
public final class OutboxEvents implements Iterable<OutboxEvent> {

  /** Payloads longer than this are shortened in descriptions. */
  static final int PAYLOAD_DESCRIPTION_LIMIT = 300;

  private final List<OutboxEvent> events;

  private OutboxEvents(List<OutboxEvent> events) {
    this.events = List.copyOf(events);
  }

  /** A snapshot of {@code events}, in the given order. */
  public static OutboxEvents of(List<OutboxEvent> events) {
    return new OutboxEvents(Objects.requireNonNull(events, "events"));
  }

  /** The events as a list. */
  public List<OutboxEvent> list() {
    return events;
  }

  public int size() {
    return events.size();
  }

  public boolean isEmpty() {
    return events.isEmpty();
  }

  /** The events of one type, e.g. {@code OrderPlaced}. */
  public OutboxEvents ofType(String type) {
    Objects.requireNonNull(type, "type");
    return filter(event -> event.type().equals(type));
  }

  /** The events sent to one destination (topic or exchange). */
  public OutboxEvents to(String destination) {
    Objects.requireNonNull(destination, "destination");
    return filter(event -> event.destination().equals(destination));
  }

  /** The events of one key (aggregate id). */
  public OutboxEvents withKey(@Nullable String key) {
    return filter(event -> Objects.equals(event.key(), key));
  }

  /** The events that match {@code predicate}. */
  public OutboxEvents filter(Predicate<? super OutboxEvent> predicate) {
    return new OutboxEvents(events.stream().filter(predicate).toList());
  }

  /** The event types, in order. */
  public List<String> types() {
    return events.stream().map(OutboxEvent::type).toList();
  }

  /** The event ids, in order. */
  public List<UUID> ids() {
    return events.stream().map(OutboxEvent::id).toList();
  }

  @Override
  public Iterator<OutboxEvent> iterator() {
    return events.iterator();
  }

  /** One line per event, as failure messages list them. */
  @Override
  public String toString() {
    if (events.isEmpty()) {
      return "(no events)";
    }
    StringBuilder out = new StringBuilder();
    for (OutboxEvent event : events) {
      out.append("\n  ").append(describe(event));
    }
    return out.toString();
  }

  /**
   * One event on one line: type and version, destination, key, payload, headers and id, e.g. {@code
   * OrderPlaced v1 to orders key=o-1 payload={"orderId":"o-1"} headers={} id=0190...}.
   */
  public static String describe(OutboxEvent event) {
    StringBuilder out =
        new StringBuilder()
            .append(event.type())
            .append(" v")
            .append(event.version())
            .append(" to ")
            .append(event.destination())
            .append(" key=")
            .append(event.key());
    if (event.aggregateType() != null) {
      out.append(" aggregateType=").append(event.aggregateType());
    }
    String payload = event.payload();
    if (payload.length() > PAYLOAD_DESCRIPTION_LIMIT) {
      payload =
          payload.substring(0, PAYLOAD_DESCRIPTION_LIMIT)
              + "...("
              + payload.length()
              + " characters)";
    }
    return out.append(" payload=")
        .append(payload)
        .append(" headers=")
        .append(event.headers())
        .append(" id=")
        .append(event.id())
        .toString();
  }
}
