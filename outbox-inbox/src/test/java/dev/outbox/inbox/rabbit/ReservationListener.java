package dev.outbox.inbox.rabbit;

import dev.outbox.inbox.IdempotentListener;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.stereotype.Component;

/** Reserves stock for each {@code sku:quantity} message, through JPA entities. */
@Component
public class ReservationListener {

  private final StockItemRepository stock;
  private final ReservationRepository reservations;
  private volatile Consumer<String> hook = id -> {};

  public ReservationListener(StockItemRepository stock, ReservationRepository reservations) {
    this.stock = stock;
    this.reservations = reservations;
  }

  /** Sets what runs with the message id inside the handler's transaction, before the effect. */
  public void setHook(Consumer<String> hook) {
    this.hook = hook;
  }

  @RabbitListener(queues = "${inbox-test.single-queue}", errorHandler = "recordingErrorHandler")
  @IdempotentListener(consumer = "stock")
  public void onSingle(Message message) {
    apply(message);
  }

  @RabbitListener(queues = "${inbox-test.queue-a}", errorHandler = "recordingErrorHandler")
  @IdempotentListener(consumer = "stock")
  public void onQueueA(Message message) {
    apply(message);
  }

  @RabbitListener(queues = "${inbox-test.queue-b}", errorHandler = "recordingErrorHandler")
  @IdempotentListener(consumer = "stock")
  public void onQueueB(Message message) {
    apply(message);
  }

  private void apply(Message message) {
    String id = message.getMessageProperties().getMessageId();
    if (id == null) {
      Object header = message.getMessageProperties().getHeader("cloudEvents_id");
      id = String.valueOf(header);
    }
    hook.accept(id);
    String[] parts = new String(message.getBody(), StandardCharsets.UTF_8).split(":");
    stock.findById(parts[0]).orElseThrow().reserve(Integer.parseInt(parts[1]));
    reservations.save(new Reservation(id));
  }
}
