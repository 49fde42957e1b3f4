package dev.outbox.examples.order.demo;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A message as the demo consumer received it.
 *
 * @param origin where it came from, e.g. {@code Kafka topic orders, partition 1, offset 0}
 * @param key the event key (the order id), or {@code null}
 * @param type the event type, e.g. {@code OrderPlaced}
 * @param attributes the message attributes to show, by their name on the wire, in display order
 * @param body the JSON body
 */
public record ReceivedEvent(
    String origin, @Nullable String key, String type, Map<String, String> attributes, String body) {

  public ReceivedEvent {
    attributes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(attributes));
  }
}
