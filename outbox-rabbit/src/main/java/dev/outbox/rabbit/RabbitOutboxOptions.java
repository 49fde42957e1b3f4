package dev.outbox.rabbit;

import dev.outbox.transport.CloudEventSource;
import java.util.Objects;

/**
 * Settings of the RabbitMQ transport. Immutable: start from {@link #defaults()} and change with the
 * {@code withX} methods. Connection settings are not here: they are Spring Boot's {@code
 * spring.rabbitmq.*}.
 *
 * @param source the CloudEvents {@code source} and AMQP {@code app_id} of every message: a URI
 *     reference ({@link CloudEventSource#check}) of at most 255 characters
 * @param defaultRoutingKey the routing key for destinations that name only an exchange
 * @param deadLetterExchange the exchange dead letters are published to
 * @param channels how many channels the transport publishes on, used in turn (1 to {@value
 *     #MAX_CHANNELS})
 * @param retryUnroutable whether a message the broker returns as unroutable (no queue bound for its
 *     routing key) is retried with backoff like a transient failure, instead of being dead-lettered
 *     at its first attempt
 */
public record RabbitOutboxOptions(
    String source,
    RoutingKeySource defaultRoutingKey,
    String deadLetterExchange,
    int channels,
    boolean retryUnroutable) {

  /** Source used when neither {@code outbox.rabbit.source} nor the application name is set. */
  public static final String DEFAULT_SOURCE = "outbox";

  /** Routing key used for destinations that name only an exchange. */
  public static final RoutingKeySource DEFAULT_ROUTING_KEY = RoutingKeySource.TYPE;

  /** Exchange that dead letters are published to. */
  public static final String DEFAULT_DEAD_LETTER_EXCHANGE = "outbox.dlx";

  /**
   * Whether the Spring Boot auto-configuration declares the dead-letter exchange and queue: on, so
   * that dead letters have somewhere to go without a manual step.
   */
  public static final boolean DEFAULT_DECLARE_DEAD_LETTER = true;

  /** Queue bound to the dead-letter exchange when the topology is declared. */
  public static final String DEFAULT_DEAD_LETTER_QUEUE = "outbox.dlq";

  /**
   * Channels the transport publishes on: each has its own stream of confirms, so a few of them
   * confirm a backlog faster than one.
   */
  public static final int DEFAULT_CHANNELS = 4;

  /** The most channels the transport may publish on. */
  public static final int MAX_CHANNELS = 64;

  /**
   * Whether unroutable messages are retried: off, so that a message no queue can take is
   * dead-lettered at once, as other failures that trying again does not fix.
   */
  public static final boolean DEFAULT_RETRY_UNROUTABLE = false;

  public RabbitOutboxOptions {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(defaultRoutingKey, "defaultRoutingKey");
    Objects.requireNonNull(deadLetterExchange, "deadLetterExchange");
    CloudEventSource.check(source);
    if (source.length() > RabbitDestination.MAX_NAME_BYTES) {
      // app_id is an AMQP short string; the check above leaves ASCII only, one byte a character.
      throw new IllegalArgumentException(
          "source is longer than 255 characters, the most the AMQP app_id property holds");
    }
    if (deadLetterExchange.isBlank()) {
      throw new IllegalArgumentException(
          "deadLetterExchange must name an exchange; the default exchange cannot be used");
    }
    if (deadLetterExchange.length() > RabbitDestination.MAX_NAME_BYTES) {
      throw new IllegalArgumentException("deadLetterExchange is longer than 255 characters");
    }
    if (channels < 1 || channels > MAX_CHANNELS) {
      throw new IllegalArgumentException(
          "channels must be between 1 and " + MAX_CHANNELS + ", was " + channels);
    }
  }

  /** Options that dead-letter unroutable messages at once. */
  public RabbitOutboxOptions(
      String source, RoutingKeySource defaultRoutingKey, String deadLetterExchange, int channels) {
    this(source, defaultRoutingKey, deadLetterExchange, channels, DEFAULT_RETRY_UNROUTABLE);
  }

  /**
   * Options publishing on {@value #DEFAULT_CHANNELS} channels that dead-letter unroutable messages
   * at once.
   */
  public RabbitOutboxOptions(
      String source, RoutingKeySource defaultRoutingKey, String deadLetterExchange) {
    this(source, defaultRoutingKey, deadLetterExchange, DEFAULT_CHANNELS);
  }

  public static RabbitOutboxOptions defaults() {
    return new RabbitOutboxOptions(
        DEFAULT_SOURCE,
        DEFAULT_ROUTING_KEY,
        DEFAULT_DEAD_LETTER_EXCHANGE,
        DEFAULT_CHANNELS,
        DEFAULT_RETRY_UNROUTABLE);
  }

  public RabbitOutboxOptions withSource(String source) {
    return new RabbitOutboxOptions(
        source, defaultRoutingKey, deadLetterExchange, channels, retryUnroutable);
  }

  public RabbitOutboxOptions withDefaultRoutingKey(RoutingKeySource defaultRoutingKey) {
    return new RabbitOutboxOptions(
        source, defaultRoutingKey, deadLetterExchange, channels, retryUnroutable);
  }

  public RabbitOutboxOptions withDeadLetterExchange(String deadLetterExchange) {
    return new RabbitOutboxOptions(
        source, defaultRoutingKey, deadLetterExchange, channels, retryUnroutable);
  }

  public RabbitOutboxOptions withChannels(int channels) {
    return new RabbitOutboxOptions(
        source, defaultRoutingKey, deadLetterExchange, channels, retryUnroutable);
  }

  public RabbitOutboxOptions withRetryUnroutable(boolean retryUnroutable) {
    return new RabbitOutboxOptions(
        source, defaultRoutingKey, deadLetterExchange, channels, retryUnroutable);
  }
}
