package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import java.util.List;

/**
 * Entry point of the AssertJ assertions on outbox events.
 *
 * <pre>{@code
 * import static dev.outbox.testing.OutboxAssertions.assertThat;
 *
 * assertThat(outbox.published())
 *     .hasPublished("OrderPlaced")
 *     .to("orders")
 *     .withKey("o-1")
 *     .withPayloadAt("/quantity", 2)
 *     .once();
 * assertThat(outbox.published()).hasNotPublished("OrderCancelled");
 * }</pre>
 */
public final class OutboxAssertions {

  private OutboxAssertions() {}

  /** Assertions on a snapshot of events, e.g. {@link OutboxTestKit#published()}. */
  public static OutboxEventsAssert assertThat(OutboxEvents events) {
    return new OutboxEventsAssert(events);
  }

  /** Assertions on a list of events, in the given order. */
  public static OutboxEventsAssert assertThat(List<OutboxEvent> events) {
    return new OutboxEventsAssert(OutboxEvents.of(events));
  }
}
