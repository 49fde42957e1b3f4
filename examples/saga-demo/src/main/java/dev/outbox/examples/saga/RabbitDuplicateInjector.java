package dev.outbox.examples.saga;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Taps the saga's RabbitMQ exchanges with a temporary queue bound with {@code #}, and publishes
 * each message a second time to the exchange and routing key it came with — same properties and
 * headers, so the same {@code message_id} — waiting for the broker's confirm. RabbitMQ routes the
 * original to every bound queue before the tap receives it, so the copy lands after the original in
 * each service's queue and the original is always handled first.
 */
final class RabbitDuplicateInjector implements DuplicateInjector {

  private static final long CONFIRM_TIMEOUT_MILLIS = 10_000;

  private final SagaTrace trace;
  private final Connection connection;
  private final Channel publisher;
  private final Set<String> copied = ConcurrentHashMap.newKeySet();
  private volatile @Nullable Throwable failure;

  RabbitDuplicateInjector(ConnectionFactory factory, List<String> exchanges, SagaTrace trace)
      throws IOException, TimeoutException {
    this.trace = trace;
    this.connection = factory.newConnection("saga-demo-duplicate-injector");
    this.publisher = connection.createChannel();
    publisher.confirmSelect();
    Channel tap = connection.createChannel();
    // Server-named, exclusive, auto-delete: gone with this connection.
    String queue = tap.queueDeclare().getQueue();
    for (String exchange : exchanges) {
      // As the services declare them; declaring here too lets the tap bind whoever starts first.
      tap.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
      tap.queueBind(queue, exchange, "#");
    }
    tap.basicConsume(queue, true, (tag, delivery) -> copy(delivery), tag -> {});
  }

  private void copy(Delivery delivery) {
    AMQP.BasicProperties properties = delivery.getProperties();
    Map<String, Object> headers =
        properties.getHeaders() == null ? Map.of() : properties.getHeaders();
    String id = properties.getMessageId();
    if (headers.containsKey(MARKER) || id == null || !copied.add(id)) {
      return;
    }
    Envelope envelope = delivery.getEnvelope();
    String location =
        "exchange " + envelope.getExchange() + ", routing key " + envelope.getRoutingKey();
    SagaTrace.Published original =
        new SagaTrace.Published(
            id,
            String.valueOf(properties.getType()),
            String.valueOf(headers.get("cloudEvents_subject")),
            location,
            new String(delivery.getBody(), StandardCharsets.UTF_8));
    trace.published(original);
    Map<String, Object> copyHeaders = new HashMap<>(headers);
    copyHeaders.put(MARKER, "true");
    try {
      publisher.basicPublish(
          envelope.getExchange(),
          envelope.getRoutingKey(),
          properties.builder().headers(copyHeaders).build(),
          delivery.getBody());
      publisher.waitForConfirmsOrDie(CONFIRM_TIMEOUT_MILLIS);
      trace.duplicateSent(original, "re-published to the " + location);
    } catch (IOException | TimeoutException ex) {
      failure = ex;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      failure = ex;
    }
  }

  @Override
  public @Nullable Throwable failure() {
    return failure;
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (IOException ex) {
      System.err.println("Could not close the duplicate injector's connection cleanly: " + ex);
    }
  }
}
