package dev.outbox;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The stored unit: one event row of the outbox table.
 *
 * @param id UUIDv7 assigned at write time; every delivery attempt carries it
 * @param sequence write order assigned by the database; 0 before the row is stored
 * @param destination topic or exchange name
 * @param key aggregate id, or {@code null} for unordered events
 * @param aggregateType aggregate type, or {@code null}
 * @param type event type name, e.g. {@code OrderPlaced}
 * @param version event type version, at least 1
 * @param payload the JSON body
 * @param headers extra headers, including captured trace context
 * @param createdAt when the event was written
 * @param attempts failed delivery attempts so far
 */
public record OutboxEvent(
    UUID id,
    long sequence,
    String destination,
    @Nullable String key,
    @Nullable String aggregateType,
    String type,
    int version,
    String payload,
    Map<String, String> headers,
    Instant createdAt,
    int attempts) {

  public OutboxEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(createdAt, "createdAt");
    headers = Map.copyOf(headers);
    if (version < 1) {
      throw new IllegalArgumentException("version must be at least 1, was " + version);
    }
  }
}
