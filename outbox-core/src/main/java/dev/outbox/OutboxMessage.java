package dev.outbox;

import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a caller asks the outbox to publish: a payload object, where it goes and its key.
 *
 * @param destination topic (Kafka) or exchange (RabbitMQ) name; never blank
 * @param key aggregate id that orders events; {@code null} for unordered events
 * @param aggregateType the aggregate's type, or {@code null}
 * @param payload the object serialized to the JSON body
 * @param headers extra headers sent with the message; may be empty
 */
public record OutboxMessage(
    String destination,
    @Nullable String key,
    @Nullable String aggregateType,
    Object payload,
    Map<String, String> headers) {

  public OutboxMessage {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(payload, "payload");
    if (destination.isBlank()) {
      throw new IllegalArgumentException("destination must not be blank");
    }
    if (key != null && key.isEmpty()) {
      key = null;
    }
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
