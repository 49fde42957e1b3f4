package dev.outbox.rabbit;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;

/**
 * Turns events into AMQP messages: CloudEvents binary content mode, JSON body, persistent.
 *
 * <p>The event's own headers (such as {@code traceparent}) are copied first, so they cannot
 * overwrite the CloudEvents attributes.
 */
final class RabbitMessages {

  /** The AMQP {@code content_type} of every message (CloudEvents {@code datacontenttype}). */
  static final String CONTENT_TYPE = "application/json";

  /** Longest error text put in a dead-letter header. */
  private static final int MAX_ERROR_LENGTH = 4000;

  private final String source;

  RabbitMessages(String source) {
    this.source = source;
  }

  /** The message for {@code event}; a new instance on each call (Spring AMQP adds headers). */
  Message toMessage(OutboxEvent event) {
    MessageProperties properties = new MessageProperties();
    event.headers().forEach(properties::setHeader);
    String id = event.id().toString();
    properties.setMessageId(id);
    properties.setContentType(CONTENT_TYPE);
    properties.setType(event.type());
    properties.setAppId(source);
    properties.setTimestamp(Date.from(event.createdAt()));
    properties.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
    properties.setHeader(RabbitHeaders.SPEC_VERSION, RabbitHeaders.SPEC_VERSION_VALUE);
    properties.setHeader(RabbitHeaders.ID, id);
    properties.setHeader(RabbitHeaders.SOURCE, source);
    properties.setHeader(RabbitHeaders.TYPE, event.type());
    properties.setHeader(RabbitHeaders.TIME, event.createdAt().toString());
    properties.setHeader(RabbitHeaders.EVENT_VERSION, event.version());
    if (event.key() != null) {
      properties.setHeader(RabbitHeaders.SUBJECT, event.key());
    }
    if (event.aggregateType() != null) {
      properties.setHeader(RabbitHeaders.AGGREGATE_TYPE, event.aggregateType());
    }
    return new Message(event.payload().getBytes(StandardCharsets.UTF_8), properties);
  }

  /**
   * The dead letter for {@code event}: the same message (same {@code message_id} and body) plus
   * headers naming where it was going and why it was given up.
   *
   * @param original where the event was going (empty names if its destination was invalid)
   */
  Message toDeadLetter(
      OutboxEvent event, RabbitDestination original, DeadLetter deadLetter, Instant now) {
    Message message = toMessage(event);
    MessageProperties properties = message.getMessageProperties();
    properties.setHeader(RabbitHeaders.ORIGINAL_DESTINATION, event.destination());
    properties.setHeader(RabbitHeaders.ORIGINAL_EXCHANGE, original.exchange());
    properties.setHeader(RabbitHeaders.ORIGINAL_ROUTING_KEY, original.routingKey());
    properties.setHeader(RabbitHeaders.ERROR, truncate(deadLetter.error()));
    properties.setHeader(RabbitHeaders.ERROR_CLASS, deadLetter.errorClass());
    properties.setHeader(RabbitHeaders.ATTEMPTS, deadLetter.attempts());
    properties.setHeader(RabbitHeaders.DEAD_LETTERED_AT, now.toString());
    return message;
  }

  private static String truncate(String error) {
    return error.length() <= MAX_ERROR_LENGTH ? error : error.substring(0, MAX_ERROR_LENGTH);
  }
}
