package dev.outbox;

/** Turns a payload object into the JSON body of the message. */
@FunctionalInterface
public interface PayloadSerializer {

  /**
   * Serializes the payload.
   *
   * @throws OutboxException if the payload cannot be serialized; the message names the type
   */
  String serialize(Object payload);
}
