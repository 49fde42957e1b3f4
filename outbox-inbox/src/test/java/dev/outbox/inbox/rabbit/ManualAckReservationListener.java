package dev.outbox.inbox.rabbit;

import com.rabbitmq.client.Channel;
import dev.outbox.inbox.IdempotentListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.amqp.support.AmqpHeaders;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;

/**
 * Reserves stock for each {@code sku:quantity} message and acknowledges it itself ({@code
 * AcknowledgeMode.MANUAL}): one container takes the mode from its container factory, which also
 * limits it to one unacknowledged message; the other from {@code @RabbitListener(ackMode)}.
 */
@Component
public class ManualAckReservationListener {

  /** What the listener does with its delivery once the stock is reserved. */
  @FunctionalInterface
  public interface Acknowledger {
    void acknowledge(String messageId, Channel channel, long deliveryTag) throws IOException;
  }

  public static final Acknowledger ACK = (id, channel, tag) -> channel.basicAck(tag, false);

  private final StockItemRepository stock;
  private final ReservationRepository reservations;
  private volatile Acknowledger acknowledger = ACK;

  public ManualAckReservationListener(
      StockItemRepository stock, ReservationRepository reservations) {
    this.stock = stock;
    this.reservations = reservations;
  }

  public void setAcknowledger(Acknowledger acknowledger) {
    this.acknowledger = acknowledger;
  }

  @RabbitListener(
      queues = "${inbox-test.manual-prefetch-one-queue}",
      containerFactory = "manualPrefetchOneContainerFactory")
  @IdempotentListener(consumer = "stock-manual")
  public void onPrefetchOne(
      Message message, Channel channel, @Header(AmqpHeaders.DELIVERY_TAG) long deliveryTag)
      throws IOException {
    reserve(message);
    channel.basicAck(deliveryTag, false);
  }

  @RabbitListener(
      queues = "${inbox-test.manual-queue}",
      ackMode = "MANUAL",
      errorHandler = "nackingErrorHandler")
  @IdempotentListener(consumer = "stock-manual")
  public void onManual(
      Message message, Channel channel, @Header(AmqpHeaders.DELIVERY_TAG) long deliveryTag)
      throws IOException {
    reserve(message);
    acknowledger.acknowledge(message.getMessageProperties().getMessageId(), channel, deliveryTag);
  }

  private void reserve(Message message) {
    String[] parts = new String(message.getBody(), StandardCharsets.UTF_8).split(":");
    stock.findById(parts[0]).orElseThrow().reserve(Integer.parseInt(parts[1]));
    reservations.save(new Reservation(message.getMessageProperties().getMessageId()));
  }
}
