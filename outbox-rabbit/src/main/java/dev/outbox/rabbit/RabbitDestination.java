package dev.outbox.rabbit;

import dev.outbox.OutboxEvent;
import java.nio.charset.StandardCharsets;

/**
 * Where a message goes on RabbitMQ: an exchange and a routing key, resolved from an event's
 * destination.
 *
 * <p>The destination syntax is {@code exchange[:routing-key]}, split at the first colon:
 *
 * <ul>
 *   <li>{@code orders} — exchange {@code orders}; the routing key is the default (the event type,
 *       or the event key, see {@link RoutingKeySource});
 *   <li>{@code orders:order.placed} — exchange {@code orders}, routing key {@code order.placed};
 *   <li>{@code orders:} — exchange {@code orders}, empty routing key (fanout exchanges);
 *   <li>{@code :billing} — the default exchange, which routes to the queue named {@code billing}.
 * </ul>
 *
 * Exchange names containing a colon therefore cannot be addressed.
 *
 * @param exchange exchange name; empty for the default exchange
 * @param routingKey routing key; may be empty
 */
public record RabbitDestination(String exchange, String routingKey) {

  /** The longest exchange name or routing key AMQP 0-9-1 can carry, in UTF-8 bytes. */
  static final int MAX_NAME_BYTES = 255;

  public RabbitDestination {
    requireShort(exchange, "exchange name");
    requireShort(routingKey, "routing key");
  }

  /**
   * Resolves the exchange and routing key for {@code event}.
   *
   * @throws RabbitPublishException (not retryable) if the destination cannot be expressed in AMQP
   */
  public static RabbitDestination of(OutboxEvent event, RoutingKeySource defaultRoutingKey) {
    String destination = event.destination();
    int colon = destination.indexOf(':');
    try {
      if (colon >= 0) {
        String exchange = destination.substring(0, colon);
        String routingKey = destination.substring(colon + 1);
        if (exchange.isEmpty() && routingKey.isEmpty()) {
          throw new IllegalArgumentException("names neither an exchange nor a queue");
        }
        return new RabbitDestination(exchange, routingKey);
      }
      return new RabbitDestination(destination, defaultRoutingKey.routingKey(event));
    } catch (IllegalArgumentException ex) {
      throw RabbitPublishException.invalidDestination(destination, ex.getMessage());
    }
  }

  private static void requireShort(String name, String what) {
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException(what + " is longer than " + MAX_NAME_BYTES + " bytes");
    }
  }

  @Override
  public String toString() {
    return "exchange '" + exchange + "' with routing key '" + routingKey + "'";
  }
}
