package dev.outbox.inbox;

import dev.outbox.OutboxException;

/**
 * A message reached an idempotent listener without an id to de-duplicate by. Retrying cannot help.
 *
 * <p>RabbitMQ: the exception's cause is Spring AMQP's {@code AmqpRejectAndDontRequeueException}, so
 * the listener container rejects the message without requeueing it (the queue's dead-letter
 * exchange, if any, receives it), and the auto-configuration keeps Spring Boot's listener retries
 * from retrying it. Kafka: mark it not retryable in the container's error handler
 * (docs/consumers.md).
 */
public class MissingMessageIdException extends OutboxException {

  public MissingMessageIdException(String message) {
    super(message);
  }

  public MissingMessageIdException(String message, Throwable cause) {
    super(message, cause);
  }
}
