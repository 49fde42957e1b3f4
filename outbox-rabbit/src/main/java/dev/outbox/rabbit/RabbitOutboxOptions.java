package dev.outbox.rabbit;

import java.util.Objects;

/**
 * Settings of the RabbitMQ transport. Immutable: start from {@link #defaults()} and change with the
 * {@code withX} methods. Connection settings are not here: they are Spring Boot's {@code
 * spring.rabbitmq.*}.
 *
 * @param source the CloudEvents {@code source} and AMQP {@code app_id} of every message
 * @param defaultRoutingKey the routing key for destinations that name only an exchange
 * @param deadLetterExchange the exchange dead letters are published to
 */
public record RabbitOutboxOptions(
    String source, RoutingKeySource defaultRoutingKey, String deadLetterExchange) {

  /** Source used when neither {@code outbox.rabbit.source} nor the application name is set. */
  public static final String DEFAULT_SOURCE = "outbox";

  /** Routing key used for destinations that name only an exchange. */
  public static final RoutingKeySource DEFAULT_ROUTING_KEY = RoutingKeySource.TYPE;

  /** Exchange that dead letters are published to. */
  public static final String DEFAULT_DEAD_LETTER_EXCHANGE = "outbox.dlx";

  /** Queue bound to the dead-letter exchange when the topology is declared. */
  public static final String DEFAULT_DEAD_LETTER_QUEUE = "outbox.dlq";

  public RabbitOutboxOptions {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(defaultRoutingKey, "defaultRoutingKey");
    Objects.requireNonNull(deadLetterExchange, "deadLetterExchange");
    if (source.isBlank()) {
      throw new IllegalArgumentException("source must not be blank");
    }
    if (deadLetterExchange.isBlank()) {
      throw new IllegalArgumentException(
          "deadLetterExchange must name an exchange; the default exchange cannot be used");
    }
    if (deadLetterExchange.length() > RabbitDestination.MAX_NAME_BYTES) {
      throw new IllegalArgumentException("deadLetterExchange is longer than 255 characters");
    }
  }

  public static RabbitOutboxOptions defaults() {
    return new RabbitOutboxOptions(
        DEFAULT_SOURCE, DEFAULT_ROUTING_KEY, DEFAULT_DEAD_LETTER_EXCHANGE);
  }

  public RabbitOutboxOptions withSource(String source) {
    return new RabbitOutboxOptions(source, defaultRoutingKey, deadLetterExchange);
  }

  public RabbitOutboxOptions withDefaultRoutingKey(RoutingKeySource defaultRoutingKey) {
    return new RabbitOutboxOptions(source, defaultRoutingKey, deadLetterExchange);
  }

  public RabbitOutboxOptions withDeadLetterExchange(String deadLetterExchange) {
    return new RabbitOutboxOptions(source, defaultRoutingKey, deadLetterExchange);
  }
}
