package dev.outbox;

import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a caller asks the outbox to publish: a payload object, where it goes and its key.
 *
 * <p>The constructor checks the destination, key, aggregate type and header names against {@link
 * EventLimits} and throws an {@link OutboxException} naming the input and the limit.
 *
 * @param destination topic (Kafka) or {@code exchange[:routing-key]} (RabbitMQ); never blank
 * @param key aggregate id that orders events, at most {@link EventLimits#MAX_KEY_BYTES} UTF-8
 *     bytes; {@code null} (or empty) for unordered events
 * @param aggregateType the aggregate's type, or {@code null}
 * @param payload the object serialized to the JSON body; never null
 * @param headers extra headers sent with the message; may be empty
 */
public record OutboxMessage(
    String destination,
    @Nullable String key,
    @Nullable String aggregateType,
    Object payload,
    Map<String, String> headers) {

  public OutboxMessage {
    EventLimits.checkDestination(destination);
    if (payload == null) {
      throw new OutboxException(
          "The payload of an event to '"
              + EventLimits.shown(destination)
              + "' is null; publish an object (it becomes the JSON body)");
    }
    if (key != null && key.isEmpty()) {
      key = null;
    }
    EventLimits.checkKey(key, destination);
    String context = " (destination '" + EventLimits.shown(destination) + "')";
    EventLimits.checkName("aggregate type", aggregateType, context);
    Objects.requireNonNull(headers, "headers");
    EventLimits.checkHeaders(headers, context);
    headers = Map.copyOf(headers);
  }

  public static OutboxMessage of(String destination, @Nullable String key, Object payload) {
    return new OutboxMessage(destination, key, null, payload, Map.of());
  }

  public OutboxMessage withAggregateType(@Nullable String aggregateType) {
    return new OutboxMessage(destination, key, aggregateType, payload, headers);
  }

  public OutboxMessage withHeaders(Map<String, String> headers) {
    return new OutboxMessage(destination, key, aggregateType, payload, headers);
  }
}
