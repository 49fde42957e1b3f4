package dev.outbox.spring;

import dev.outbox.EventTypes;
import dev.outbox.OutboxException;
import dev.outbox.PayloadSerializer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectMapper;

/** Serializes payloads with the application's own Jackson mapper. */
public final class JacksonPayloadSerializer implements PayloadSerializer {

  private final ObjectMapper mapper;

  public JacksonPayloadSerializer(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  @Override
  public String serialize(Object payload) {
    try {
      return mapper.writeValueAsString(payload);
    } catch (JacksonException ex) {
      throw new OutboxException(
          "Cannot serialize the payload of event type "
              + EventTypes.of(payload.getClass()).name()
              + " ("
              + payload.getClass().getName()
              + ") to JSON: "
              + ex.getOriginalMessage(),
          ex);
    }
  }
}
