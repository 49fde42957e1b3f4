package dev.outbox.rabbit;

import com.rabbitmq.client.AMQP;
import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Turns events into AMQP messages: CloudEvents binary content mode, JSON body, persistent.
 *
 * <p>The event's own headers (such as {@code traceparent}) are copied first, so they cannot
 * overwrite the CloudEvents attributes.
 *
 * <p>The properties are built for the RabbitMQ client directly, with the values Spring AMQP's
 * {@code MessageProperties} would have carried (priority 0 included); going through Spring AMQP's
 * message and its properties converter cost a fifth of the relay's CPU per message.
 */
final class RabbitMessages {

  /** The AMQP {@code content_type} of every message (CloudEvents {@code datacontenttype}). */
  static final String CONTENT_TYPE = "application/json";

  /**
   * The headers of the CloudEvents attributes, in lower case, in both of the binding's spellings
   * ({@code cloudEvents_id}, {@code cloudEvents:id}). An event header of one of these names, in any
   * case, is not sent: it would stand in for an attribute the event does not have ({@code subject},
   * {@code aggregatetype}), or beside one for a consumer that reads the other spelling or ignores
   * case.
   */
  private static final Set<String> RESERVED =
      Stream.of(
              RabbitHeaders.SPEC_VERSION,
              RabbitHeaders.ID,
              RabbitHeaders.SOURCE,
              RabbitHeaders.TYPE,
              RabbitHeaders.TIME,
              RabbitHeaders.SUBJECT,
              RabbitHeaders.EVENT_VERSION,
              RabbitHeaders.AGGREGATE_TYPE)
          .map(name -> name.toLowerCase(Locale.ROOT))
          .flatMap(name -> Stream.of(name, name.replace("cloudevents_", "cloudevents:")))
          .collect(Collectors.toUnmodifiableSet());

  /** AMQP {@code delivery_mode} of a message the broker writes to disk. */
  private static final int PERSISTENT = 2;

  /** Longest error text put in a dead-letter header. */
  private static final int MAX_ERROR_LENGTH = 4000;

  private final String source;

  RabbitMessages(String source) {
    this.source = source;
  }

  /** A message as the RabbitMQ client publishes it. */
  record AmqpMessage(AMQP.BasicProperties properties, byte[] body) {}

  /** The message for {@code event}. */
  AmqpMessage toMessage(OutboxEvent event) {
    return new AmqpMessage(properties(event, headers(event)), body(event));
  }

  /**
   * The dead letter for {@code event}: the same message (same {@code message_id} and body) plus
   * headers naming where it was going and why it was given up.
   *
   * @param original where the event was going (empty names if its destination was invalid)
   */
  AmqpMessage toDeadLetter(
      OutboxEvent event, RabbitDestination original, DeadLetter deadLetter, Instant now) {
    Map<String, Object> headers = headers(event);
    headers.put(RabbitHeaders.ORIGINAL_DESTINATION, event.destination());
    headers.put(RabbitHeaders.ORIGINAL_EXCHANGE, original.exchange());
    headers.put(RabbitHeaders.ORIGINAL_ROUTING_KEY, original.routingKey());
    headers.put(RabbitHeaders.ERROR, truncate(deadLetter.error()));
    headers.put(RabbitHeaders.ERROR_CLASS, deadLetter.errorClass());
    headers.put(RabbitHeaders.ATTEMPTS, deadLetter.attempts());
    headers.put(RabbitHeaders.DEAD_LETTERED_AT, now.toString());
    return new AmqpMessage(properties(event, headers), body(event));
  }

  private Map<String, Object> headers(OutboxEvent event) {
    Map<String, Object> headers = new HashMap<>(event.headers().size() + 16);
    for (Map.Entry<String, String> header : event.headers().entrySet()) {
      if (!RESERVED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
        headers.put(header.getKey(), header.getValue());
      }
    }
    headers.put(RabbitHeaders.SPEC_VERSION, RabbitHeaders.SPEC_VERSION_VALUE);
    headers.put(RabbitHeaders.ID, event.id().toString());
    headers.put(RabbitHeaders.SOURCE, source);
    headers.put(RabbitHeaders.TYPE, event.type());
    headers.put(RabbitHeaders.TIME, event.createdAt().toString());
    headers.put(RabbitHeaders.EVENT_VERSION, event.version());
    if (event.key() != null) {
      headers.put(RabbitHeaders.SUBJECT, event.key());
    }
    if (event.aggregateType() != null) {
      headers.put(RabbitHeaders.AGGREGATE_TYPE, event.aggregateType());
    }
    return headers;
  }

  private AMQP.BasicProperties properties(OutboxEvent event, Map<String, Object> headers) {
    return new AMQP.BasicProperties.Builder()
        .messageId(event.id().toString())
        .contentType(CONTENT_TYPE)
        .type(event.type())
        .appId(source)
        .timestamp(Date.from(event.createdAt()))
        .deliveryMode(PERSISTENT)
        .priority(0)
        .headers(headers)
        .build();
  }

  private static byte[] body(OutboxEvent event) {
    return event.payload().getBytes(StandardCharsets.UTF_8);
  }

  private static String truncate(String error) {
    return Failures.truncate(error, MAX_ERROR_LENGTH);
  }
}
