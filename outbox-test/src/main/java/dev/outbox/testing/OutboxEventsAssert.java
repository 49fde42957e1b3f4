package dev.outbox.testing;

import dev.outbox.EventTypes;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.assertj.core.api.AbstractAssert;

/** Assertions on a snapshot of outbox events; start with {@link OutboxAssertions#assertThat}. */
public class OutboxEventsAssert extends AbstractAssert<OutboxEventsAssert, OutboxEvents> {

  OutboxEventsAssert(OutboxEvents events) {
    super(Objects.requireNonNull(events, "events"), OutboxEventsAssert.class);
  }

  /**
   * Asserts that at least one event has {@code type}, e.g. {@code OrderPlaced}; narrow it down
   * further with the returned assertion ({@code .to("orders").withKey("o-1")}).
   */
  public PublishedEventAssert hasPublished(String type) {
    Objects.requireNonNull(type, "type");
    return new PublishedEventAssert(this, actual, type);
  }

  /**
   * Asserts that at least one event has the type of {@code payloadType}: its {@code @EventType}
   * name, or its simple class name.
   */
  public PublishedEventAssert hasPublished(Class<?> payloadType) {
    return hasPublished(EventTypes.of(payloadType).name());
  }

  /** Asserts that no event has {@code type}. */
  public OutboxEventsAssert hasNotPublished(String type) {
    OutboxEvents found = actual.ofType(type);
    if (!found.isEmpty()) {
      failWithMessage(
          "Expected no %s event, but found %d:%s", type, found.size(), found.toString());
    }
    return this;
  }

  /** Asserts the number of events. */
  public OutboxEventsAssert hasSize(int expected) {
    if (actual.size() != expected) {
      failWithMessage(
          "Expected %d %s, but found %d:%s",
          expected, expected == 1 ? "event" : "events", actual.size(), actual.toString());
    }
    return this;
  }

  /** Asserts that there is no event. */
  public OutboxEventsAssert isEmpty() {
    if (!actual.isEmpty()) {
      failWithMessage("Expected no events, but found %d:%s", actual.size(), actual.toString());
    }
    return this;
  }

  /**
   * Asserts the types of all events, in order (write order, or the order the relay published them),
   * e.g. {@code hasTypes("OrderPlaced", "OrderConfirmed")}.
   */
  public OutboxEventsAssert hasTypes(String... types) {
    List<String> expected = Arrays.asList(types);
    if (!actual.types().equals(expected)) {
      failWithMessage(
          "Expected the event types %s in this order, but found %s:%s",
          expected, actual.types(), actual.toString());
    }
    return this;
  }
}
