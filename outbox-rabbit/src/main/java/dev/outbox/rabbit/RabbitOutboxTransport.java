package dev.outbox.rabbit;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import dev.outbox.transport.PublishTimeoutException;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * Publishes outbox events to RabbitMQ over the application's Spring AMQP {@link ConnectionFactory}.
 *
 * <p>Every message is persistent and published as mandatory, on one of a few channels in confirm
 * mode (see {@link RabbitOutboxOptions#channels()}). {@link #send} returns as soon as the message
 * is written; its future completes when the broker confirms it: normally on an ack, exceptionally
 * with a {@link RabbitPublishException} on a nack, on a return (no queue bound: an unroutable
 * message is a failure, not a success) or when the broker closed its channel because of this
 * message (missing exchange, access refused, message too large). A message whose channel closed
 * because of another message, or whose connection dropped, is published again without failing (see
 * {@link PublishingChannels}). The relay can therefore hand over a whole batch and wait once.
 *
 * <p>Systemic failures complete with {@link RabbitUnavailableException}, which {@link
 * #isBrokerUnavailable} recognises: no connection (refused, wrong credentials), a connection the
 * broker blocks (memory or disk alarm), a missing dead-letter exchange, or a socket that failed the
 * write on the old connection and again on a new one.
 */
public final class RabbitOutboxTransport implements OutboxTransport, AutoCloseable {

  private final RabbitOutboxOptions options;
  private final RabbitMessages messages;
  private final Clock clock;
  private final DeadLetterExchange deadLetters;
  private final PublishingChannels publishing;

  public RabbitOutboxTransport(ConnectionFactory connectionFactory, RabbitOutboxOptions options) {
    this(connectionFactory, options, Clock.systemUTC());
  }

  RabbitOutboxTransport(
      ConnectionFactory connectionFactory, RabbitOutboxOptions options, Clock clock) {
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.messages = new RabbitMessages(options.source());
    this.deadLetters = new DeadLetterExchange(options.deadLetterExchange());
    this.publishing = new PublishingChannels(connectionFactory, deadLetters, options.channels());
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    RabbitDestination destination;
    RabbitMessages.AmqpMessage message;
    try {
      destination = RabbitDestination.of(event, options.defaultRoutingKey());
      message = messages.toMessage(event);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(explain(ex));
    }
    return publish(destination, event.key(), message);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    RabbitDestination original;
    try {
      original = RabbitDestination.of(event, options.defaultRoutingKey());
    } catch (RabbitPublishException invalid) {
      original = new RabbitDestination("", "");
    }
    RabbitMessages.AmqpMessage message;
    RabbitDestination target;
    try {
      message = messages.toDeadLetter(event, original, deadLetter, clock.instant());
      String routingKey = original.routingKey().isEmpty() ? event.type() : original.routingKey();
      target = new RabbitDestination(options.deadLetterExchange(), routingKey);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(ex);
    }
    return publish(target, event.key(), message);
  }

  private CompletableFuture<Void> publish(
      RabbitDestination destination, @Nullable String key, RabbitMessages.AmqpMessage message) {
    Publish publish = new Publish(destination, key, message.properties(), message.body());
    publishing.publish(publish);
    CompletableFuture<Void> result = publish.result;
    if (result.isDone() && !result.isCompletedExceptionally()) {
      return result;
    }
    return result.exceptionallyCompose(failure -> CompletableFuture.failedFuture(explain(failure)));
  }

  /**
   * While the dead-letter exchange is missing, a failure is reported as "unavailable", so that the
   * relay neither charges nor dead-letters it.
   */
  private Throwable explain(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof RabbitUnavailableException || !deadLetters.missing()) {
      return cause;
    }
    return new RabbitUnavailableException(
        "Publishing failed while "
            + deadLetters.unavailableReason()
            + ": "
            + Failures.describe(cause),
        cause);
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return RabbitFailureClassifier.isRetryable(failure, options.retryUnroutable());
  }

  /**
   * Whether RabbitMQ as a whole cannot take messages: no connection could be opened, the broker
   * blocks the connection, or the dead-letter exchange is missing. A relay timeout counts too while
   * one of the latter two lasts, or when the broker has answered nothing on the transport's
   * channels since the message was sent (its process stopped, a network that drops packets); a
   * broker that answered other messages meanwhile but not this one is this message's failure, and
   * charged.
   */
  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    if (Failures.causedBy(failure, RabbitUnavailableException.class, AmqpConnectException.class)) {
      return true;
    }
    Throwable cause = Failures.unwrap(failure);
    if (!(cause instanceof TimeoutException)) {
      return false;
    }
    return publishing.unavailableReason() != null
        || (cause instanceof PublishTimeoutException timeout
            && publishing.silentSince(timeout.sentNanos()));
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return options.deadLetterExchange();
  }

  /** Closes the publishing channels; messages still unconfirmed fail. */
  @Override
  public void close() {
    publishing.close();
  }

  /** The settings this transport was built with. */
  public RabbitOutboxOptions options() {
    return options;
  }
}
