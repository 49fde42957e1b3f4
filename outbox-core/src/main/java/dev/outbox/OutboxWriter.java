package dev.outbox;

import dev.outbox.relay.OutboxDefaults;
import dev.outbox.store.OutboxRepository;
import java.sql.Connection;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Builds events from messages (id, type, serialized payload, captured headers) and appends them on
 * the caller's connection, so they share the caller's transaction. Plain-JDBC entry point; the
 * Spring starter wraps it with transaction participation.
 *
 * <p>Every event is checked before anything is written ({@link EventLimits}; the serialized payload
 * against {@code maxPayloadBytes}, the largest message the transport accepts): bad input fails the
 * call with an {@link OutboxException} naming the input and the limit, and the business transaction
 * decides what to do.
 */
public final class OutboxWriter {

  /** How a payload over the limit names it, unless the writer's creator describes it. */
  private static final String CONFIGURED_MAXIMUM = "the configured maximum payload size";

  private final OutboxRepository repository;
  private final PayloadSerializer serializer;
  private final HeaderCapture headerCapture;
  private final Clock clock;
  private final int maxPayloadBytes;
  private final String maxPayloadDescription;

  /**
   * A writer without a payload limit of its own: a payload larger than the broker accepts is
   * dead-lettered by the relay at its first attempt. Prefer the constructor that takes the
   * transport's limit.
   */
  public OutboxWriter(
      OutboxRepository repository,
      PayloadSerializer serializer,
      HeaderCapture headerCapture,
      Clock clock) {
    this(repository, serializer, headerCapture, clock, Integer.MAX_VALUE);
  }

  /**
   * A writer whose error for a payload over the limit calls it "the configured maximum payload
   * size".
   *
   * @param maxPayloadBytes the largest serialized payload, in UTF-8 bytes: the transport's limit
   *     ({@link dev.outbox.transport.OutboxTransport#maxPayloadBytes()}, by default {@link
   *     OutboxDefaults#MAX_PAYLOAD_BYTES}); at least 1
   */
  public OutboxWriter(
      OutboxRepository repository,
      PayloadSerializer serializer,
      HeaderCapture headerCapture,
      Clock clock,
      int maxPayloadBytes) {
    this(repository, serializer, headerCapture, clock, maxPayloadBytes, CONFIGURED_MAXIMUM);
  }

  /**
   * A writer whose error for a payload over the limit describes the limit as its creator says, for
   * a creator that knows where the limit comes from: the Spring Boot starter names its property
   * ({@code outbox.max-payload-size}) or says that the limit is the transport's.
   *
   * @param maxPayloadBytes the largest serialized payload, in UTF-8 bytes; at least 1
   * @param maxPayloadDescription what the limit is, as the error shows it in parentheses after the
   *     number of bytes, e.g. {@code "outbox.max-payload-size"}: {@code Payload of event type
   *     OrderPlaced to 'orders' is 2000 UTF-8 bytes, more than the limit of 1000 bytes
   *     (outbox.max-payload-size)}; not blank
   */
  public OutboxWriter(
      OutboxRepository repository,
      PayloadSerializer serializer,
      HeaderCapture headerCapture,
      Clock clock,
      int maxPayloadBytes,
      String maxPayloadDescription) {
    this.repository = Objects.requireNonNull(repository, "repository");
    this.serializer = Objects.requireNonNull(serializer, "serializer");
    this.headerCapture = Objects.requireNonNull(headerCapture, "headerCapture");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxPayloadBytes < 1) {
      throw new OutboxException(
          "Invalid outbox setting: maxPayloadBytes must be at least 1, was " + maxPayloadBytes);
    }
    if (Objects.requireNonNull(maxPayloadDescription, "maxPayloadDescription").isBlank()) {
      throw new OutboxException("Invalid outbox setting: maxPayloadDescription is blank");
    }
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxPayloadDescription = maxPayloadDescription;
  }

  /** The largest serialized payload this writer accepts, in UTF-8 bytes. */
  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  /**
   * Serializes and appends the messages on {@code connection}, which must be in the business
   * transaction. Checks and serialization happen first, so an invalid event or a payload that
   * cannot be serialized fails before anything is written.
   *
   * @return the event ids, in message order
   */
  public List<UUID> write(Connection connection, List<OutboxMessage> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    Map<String, String> captured = headerCapture.capture();
    if (!captured.isEmpty()) {
      EventLimits.checkHeaders(
          captured, " (captured by " + headerCapture.getClass().getName() + ")");
    }
    List<OutboxEvent> events = new ArrayList<>(messages.size());
    for (OutboxMessage message : messages) {
      events.add(toEvent(message, captured));
    }
    repository.append(connection, events);
    List<UUID> ids = new ArrayList<>(events.size());
    for (OutboxEvent event : events) {
      ids.add(event.id());
    }
    return ids;
  }

  private OutboxEvent toEvent(OutboxMessage message, Map<String, String> captured) {
    EventTypes.Resolved type = EventTypes.of(message.payload().getClass());
    String json;
    try {
      json = serializer.serialize(message.payload());
    } catch (OutboxException ex) {
      throw ex;
    } catch (RuntimeException ex) {
      throw new OutboxException(
          "Cannot serialize payload of event type "
              + type.name()
              + " ("
              + message.payload().getClass().getName()
              + "): "
              + ex.getMessage(),
          ex);
    }
    if (json == null) {
      throw new OutboxException(
          "The serializer returned null for the payload of event type "
              + type.name()
              + " ("
              + message.payload().getClass().getName()
              + ")");
    }
    EventLimits.checkPayload(
        json, maxPayloadBytes, maxPayloadDescription, type.name(), message.destination());
    Map<String, String> headers = captured;
    if (!message.headers().isEmpty()) {
      headers = new HashMap<>(captured);
      headers.putAll(message.headers());
    }
    return new OutboxEvent(
        EventIds.next(),
        0,
        message.destination(),
        message.key(),
        message.aggregateType(),
        type.name(),
        type.version(),
        json,
        headers,
        clock.instant(),
        0);
  }
}
