package dev.outbox.rabbit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.Failures;
import dev.outbox.transport.OutboxTransport;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.ReturnedMessage;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * Publishes outbox events to RabbitMQ through Spring AMQP's {@link RabbitTemplate}.
 *
 * <p>Every message is persistent and published as mandatory with a correlated publisher confirm.
 * {@link #send} returns as soon as the message is written to the channel; its future completes when
 * the broker confirms it: normally on an ack, exceptionally with a {@link RabbitPublishException}
 * on a nack, on a return (no queue bound: an unroutable message is a failure, not a success) or
 * when the channel closes before the confirm arrives (the pending confirms of a lost connection are
 * failed, never left hanging). The relay can therefore hand over a whole batch and wait once.
 *
 * <p>The connection factory must have correlated publisher confirms and publisher returns enabled
 * ({@code spring.rabbitmq.publisher-confirm-type=correlated}, {@code
 * spring.rabbitmq.publisher-returns=true}); the constructor rejects one that does not.
 */
public final class RabbitOutboxTransport implements OutboxTransport, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RabbitOutboxTransport.class);

  private final RabbitOutboxOptions options;
  private final RabbitMessages messages;
  private final Clock clock;
  private final PublishingChannel publishing;
  private final AtomicLong correlations = new AtomicLong();

  public RabbitOutboxTransport(ConnectionFactory connectionFactory, RabbitOutboxOptions options) {
    this(connectionFactory, options, Clock.systemUTC());
  }

  RabbitOutboxTransport(
      ConnectionFactory connectionFactory, RabbitOutboxOptions options, Clock clock) {
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.options = Objects.requireNonNull(options, "options");
    this.clock = Objects.requireNonNull(clock, "clock");
    requireConfirmsAndReturns(connectionFactory);
    this.messages = new RabbitMessages(options.source());
    RabbitTemplate template = new RabbitTemplate(connectionFactory);
    template.setMandatory(true);
    template.setReturnsCallback(
        returned ->
            log.debug(
                "Message {} returned by {} ({} {})",
                returned.getMessage().getMessageProperties().getMessageId(),
                returned.getExchange(),
                returned.getReplyCode(),
                returned.getReplyText()));
    this.publishing = new PublishingChannel(connectionFactory, template);
  }

  /**
   * Fails unless {@code connectionFactory} confirms publishes with correlation and returns
   * unroutable messages: without both, a send could not tell success from loss.
   */
  static void requireConfirmsAndReturns(ConnectionFactory connectionFactory) {
    if (!connectionFactory.isPublisherConfirms() || !connectionFactory.isPublisherReturns()) {
      throw new OutboxException(
          "The RabbitMQ outbox transport needs publisher confirms of type CORRELATED and publisher"
              + " returns on its ConnectionFactory (confirms: "
              + (connectionFactory.isPublisherConfirms()
                  ? "correlated"
                  : connectionFactory.isSimplePublisherConfirms() ? "simple" : "none")
              + ", returns: "
              + connectionFactory.isPublisherReturns()
              + "). Set spring.rabbitmq.publisher-confirm-type=correlated and"
              + " spring.rabbitmq.publisher-returns=true, or enable both on your own"
              + " CachingConnectionFactory.");
    }
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    RabbitDestination destination;
    Message message;
    try {
      destination = RabbitDestination.of(event, options.defaultRoutingKey());
      message = messages.toMessage(event);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(ex);
    }
    return publish(destination, message);
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    RabbitDestination original;
    try {
      original = RabbitDestination.of(event, options.defaultRoutingKey());
    } catch (RabbitPublishException invalid) {
      original = new RabbitDestination("", "");
    }
    Message message;
    RabbitDestination target;
    try {
      message = messages.toDeadLetter(event, original, deadLetter, clock.instant());
      String routingKey = original.routingKey().isEmpty() ? event.type() : original.routingKey();
      target = new RabbitDestination(options.deadLetterExchange(), routingKey);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(ex);
    }
    return publish(target, message);
  }

  private CompletableFuture<Void> publish(RabbitDestination destination, Message message) {
    CorrelationData correlation =
        new CorrelationData(
            message.getMessageProperties().getMessageId() + "/" + correlations.incrementAndGet());
    Channel channel;
    try {
      channel =
          publishing.publish(
              destination.exchange(), destination.routingKey(), message, correlation);
    } catch (RuntimeException ex) {
      return CompletableFuture.failedFuture(ex);
    }
    return correlation
        .getFuture()
        .thenApply(
            confirm -> {
              ReturnedMessage returned = correlation.getReturned();
              if (returned != null) {
                throw RabbitPublishException.returned(
                    destination, returned.getReplyCode(), returned.getReplyText());
              }
              if (!confirm.ack()) {
                throw RabbitPublishException.nacked(
                    destination, nackCause(confirm.reason(), channel));
              }
              return null;
            });
  }

  /**
   * The nack reason, completed with the broker's reason for closing the channel: Spring AMQP may
   * report a channel the broker closed (e.g. access refused) as closed by the application.
   */
  private static @Nullable String nackCause(@Nullable String reason, @Nullable Channel channel) {
    if (RabbitPublishException.replyCodeIn(reason) != 0 || channel == null) {
      return reason;
    }
    ShutdownSignalException closed = channel.getCloseReason();
    if (closed == null || closed.getMessage() == null) {
      return reason;
    }
    return (reason == null ? "" : reason + "; ") + "channel closed: " + closed.getMessage();
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return RabbitFailureClassifier.isRetryable(failure);
  }

  /** No connection to RabbitMQ could be opened: the broker is down or unreachable. */
  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    return Failures.causedBy(failure, org.springframework.amqp.AmqpConnectException.class);
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return options.deadLetterExchange();
  }

  /** Closes the publishing channel; messages still unconfirmed fail. */
  @Override
  public void close() {
    publishing.close();
  }

  /** The settings this transport was built with. */
  public RabbitOutboxOptions options() {
    return options;
  }
}
