package dev.outbox.rabbit;

import com.rabbitmq.client.AMQP;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One message on its way to the broker, and the future that reports its confirm. It may travel more
 * than once: when a channel closes because of another message, it is published again on another
 * channel and its future stays pending.
 */
final class Publish {

  final RabbitDestination destination;
  final @Nullable String key;
  final AMQP.BasicProperties properties;
  final byte[] body;
  final CompletableFuture<Void> result = new CompletableFuture<>();

  /** How often it was published again after its channel closed under it. */
  int resends;

  /** The broker's return (no queue took it), set before its confirm arrives; null if none. */
  volatile @Nullable RabbitPublishException returned;

  Publish(
      RabbitDestination destination,
      @Nullable String key,
      AMQP.BasicProperties properties,
      byte[] body) {
    this.destination = destination;
    this.key = key;
    this.properties = properties;
    this.body = body;
  }

  /** The message id, which matches a return to its publish. */
  @Nullable String messageId() {
    return properties.getMessageId();
  }

  void confirmed() {
    RabbitPublishException unroutable = returned;
    if (unroutable == null) {
      result.complete(null);
    } else {
      result.completeExceptionally(unroutable);
    }
  }

  void failed(Throwable failure) {
    result.completeExceptionally(failure);
  }
}
