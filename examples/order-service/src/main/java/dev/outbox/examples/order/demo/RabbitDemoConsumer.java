package dev.outbox.examples.order.demo;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageListener;
import org.springframework.amqp.core.MessageProperties;

/**
 * A plain AMQP message listener on a demo queue bound to the exchange; hands each message to {@link
 * ReceivedEvents}.
 */
public final class RabbitDemoConsumer implements DemoConsumer, MessageListener {

  private final String exchange;
  private final String queue;
  private final ReceivedEvents events;
  private final java.util.function.BooleanSupplier started;

  /**
   * @param started whether the listener container consumes from the queue
   */
  public RabbitDemoConsumer(
      String exchange,
      String queue,
      ReceivedEvents events,
      java.util.function.BooleanSupplier started) {
    this.exchange = exchange;
    this.queue = queue;
    this.events = events;
    this.started = started;
  }

  @Override
  public String description() {
    return "RabbitMQ exchange \"" + exchange + "\" (read from queue " + queue + ")";
  }

  /** The listener container starts its consumers before the application runs the demo. */
  @Override
  public boolean awaitReady(Duration timeout) {
    return started.getAsBoolean();
  }

  @Override
  public void onMessage(Message message) {
    MessageProperties properties = message.getMessageProperties();
    Map<String, String> shown = new LinkedHashMap<>();
    shown.put("message_id", String.valueOf(properties.getMessageId()));
    shown.put("cloudEvents_type", header(properties, "cloudEvents_type"));
    shown.put("cloudEvents_source", header(properties, "cloudEvents_source"));
    shown.put("cloudEvents_time", header(properties, "cloudEvents_time"));
    Object subject = properties.getHeaders().get("cloudEvents_subject");
    events.received(
        new ReceivedEvent(
            "RabbitMQ exchange "
                + properties.getReceivedExchange()
                + ", routing key "
                + properties.getReceivedRoutingKey(),
            subject == null ? null : subject.toString(),
            String.valueOf(properties.getType()),
            shown,
            new String(message.getBody(), StandardCharsets.UTF_8)));
  }

  private static String header(MessageProperties properties, String name) {
    Object value = properties.getHeaders().get(name);
    return value == null ? "(none)" : value.toString();
  }
}
