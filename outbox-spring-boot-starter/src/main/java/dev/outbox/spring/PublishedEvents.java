package dev.outbox.spring;

import dev.outbox.PublishEvent;
import java.util.List;
import java.util.UUID;

/**
 * The ids of the events that the most recent {@link PublishEvent} method wrote on the current
 * thread, for a caller that needs them (to return to its client, log, or correlate a reply):
 *
 * <pre>{@code
 * OrderPlaced placed = orders.placeOrder(command);   // a @PublishEvent method
 * UUID eventId = PublishedEvents.lastId();
 * }</pre>
 *
 * <p>The ids are those the events will carry on every delivery (the CloudEvents {@code id}). They
 * are known as soon as the method returns, before the transaction commits: if the method joined an
 * outer transaction that later rolls back, the events are never published. The programmatic {@link
 * dev.outbox.Outbox} API returns the ids directly.
 */
public final class PublishedEvents {

  private static final ThreadLocal<List<UUID>> LAST = new ThreadLocal<>();

  private PublishedEvents() {}

  /**
   * The ids written by the most recent {@code @PublishEvent} method that returned on this thread,
   * in write order; empty if it wrote none (a {@code null} payload), if no such method ran here, or
   * if the most recent one threw (the ids are forgotten when such a method starts, so those of an
   * earlier call are never mistaken for its own).
   */
  public static List<UUID> lastIds() {
    List<UUID> ids = LAST.get();
    return ids == null ? List.of() : ids;
  }

  /**
   * The id written by the most recent {@code @PublishEvent} method that returned on this thread.
   *
   * @throws IllegalStateException if that method wrote no event, threw, or wrote several (see
   *     {@link #lastIds()})
   */
  public static UUID lastId() {
    List<UUID> ids = lastIds();
    if (ids.isEmpty()) {
      throw new IllegalStateException(
          "The last @PublishEvent method on this thread wrote no event: its payload was null, it"
              + " threw, or none ran here");
    }
    if (ids.size() != 1) {
      throw new IllegalStateException(
          "The last @PublishEvent method on this thread wrote "
              + ids.size()
              + " events, not one; use PublishedEvents.lastIds()");
    }
    return ids.get(0);
  }

  static void remember(List<UUID> ids) {
    LAST.set(List.copyOf(ids));
  }
}
