package dev.outbox.rabbit;

import dev.outbox.transport.CloudEventSource;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code outbox.rabbit.*}: how events are published to RabbitMQ. The connection itself is Spring
 * Boot's {@code spring.rabbitmq.*}.
 */
@ConfigurationProperties("outbox.rabbit")
public class OutboxRabbitProperties {

  /** Whether to publish the outbox to RabbitMQ. */
  private boolean enabled = true;

  /**
   * CloudEvents source and AMQP app_id of every message: a URI reference of at most 255 characters,
   * such as "order-service" or "/shop/orders". Defaults to spring.application.name (percent-encoded
   * where it is not a URI reference), or "outbox" when that is not set either.
   */
  private @Nullable String source;

  /**
   * Routing key for destinations that name only an exchange: the event type (TYPE) or the event key
   * (KEY, falling back to the type for unkeyed events).
   */
  private RoutingKeySource defaultRoutingKey = RabbitOutboxOptions.DEFAULT_ROUTING_KEY;

  /** Exchange to which exhausted and non-retryable events are published. */
  private String deadLetterExchange = RabbitOutboxOptions.DEFAULT_DEAD_LETTER_EXCHANGE;

  /** Queue bound to the dead-letter exchange when declare-dead-letter is true. */
  private String deadLetterQueue = RabbitOutboxOptions.DEFAULT_DEAD_LETTER_QUEUE;

  /**
   * Whether to declare the dead-letter exchange (durable topic) and queue (durable, bound with
   * "#"). Needs Spring Boot's AmqpAdmin (spring.rabbitmq.dynamic=true, the default). Without it,
   * the exchange must exist: while it does not, failures are neither charged nor dead-lettered and
   * the relay reports the broker unavailable.
   */
  private boolean declareDeadLetter = RabbitOutboxOptions.DEFAULT_DECLARE_DEAD_LETTER;

  /** Channels the transport publishes on, used in turn, each with its own stream of confirms. */
  private int channels = RabbitOutboxOptions.DEFAULT_CHANNELS;

  /**
   * Whether an event the broker returns as unroutable (no queue bound for its routing key) is
   * retried with backoff, for topologies whose queues may be bound after the event is published.
   * Off: it is dead-lettered at its first attempt.
   */
  private boolean retryUnroutable = RabbitOutboxOptions.DEFAULT_RETRY_UNROUTABLE;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public @Nullable String getSource() {
    return source;
  }

  public void setSource(@Nullable String source) {
    this.source = source;
  }

  public RoutingKeySource getDefaultRoutingKey() {
    return defaultRoutingKey;
  }

  public void setDefaultRoutingKey(RoutingKeySource defaultRoutingKey) {
    this.defaultRoutingKey = defaultRoutingKey;
  }

  public String getDeadLetterExchange() {
    return deadLetterExchange;
  }

  public void setDeadLetterExchange(String deadLetterExchange) {
    this.deadLetterExchange = deadLetterExchange;
  }

  public String getDeadLetterQueue() {
    return deadLetterQueue;
  }

  public void setDeadLetterQueue(String deadLetterQueue) {
    this.deadLetterQueue = deadLetterQueue;
  }

  public boolean isDeclareDeadLetter() {
    return declareDeadLetter;
  }

  public void setDeclareDeadLetter(boolean declareDeadLetter) {
    this.declareDeadLetter = declareDeadLetter;
  }

  public int getChannels() {
    return channels;
  }

  public void setChannels(int channels) {
    this.channels = channels;
  }

  public boolean isRetryUnroutable() {
    return retryUnroutable;
  }

  public void setRetryUnroutable(boolean retryUnroutable) {
    this.retryUnroutable = retryUnroutable;
  }

  /** The transport options these properties describe. */
  RabbitOutboxOptions toOptions(@Nullable String applicationName) {
    String resolvedSource =
        CloudEventSource.resolve(
            source, "outbox.rabbit.source", applicationName, RabbitOutboxOptions.DEFAULT_SOURCE);
    // Each value is applied on its own, so that a refusal names the property that holds it.
    RabbitOutboxOptions options = RabbitOutboxOptions.defaults();
    String sourceProperty =
        source == null || source.isBlank()
            ? "outbox.rabbit.source (spring.application.name when unset)"
            : "outbox.rabbit.source";
    options = checked(sourceProperty, options, o -> o.withSource(resolvedSource));
    options = options.withDefaultRoutingKey(defaultRoutingKey).withRetryUnroutable(retryUnroutable);
    options =
        checked(
            "outbox.rabbit.dead-letter-exchange",
            options,
            o -> o.withDeadLetterExchange(deadLetterExchange));
    return checked("outbox.rabbit.channels", options, o -> o.withChannels(channels));
  }

  private static RabbitOutboxOptions checked(
      String property, RabbitOutboxOptions options, UnaryOperator<RabbitOutboxOptions> change) {
    try {
      return change.apply(options);
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("Invalid " + property + ": " + ex.getMessage(), ex);
    }
  }
}
