package dev.outbox.inbox.kafka;

import dev.outbox.Outbox;
import dev.outbox.inbox.IdempotentListener;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.support.Acknowledgment;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.stereotype.Component;

/**
 * Reserves stock and publishes {@link StockReserved} through the outbox, in the transaction the
 * idempotent listener runs in, for each {@code sku:quantity} record. One container reads the single
 * topic; two containers in different consumer groups read the pair topic, so each of its records
 * reaches both at about the same time — the same consumer name makes them one idempotent consumer.
 * One more container leaves acknowledging to its listener.
 */
@Component
public class StockListener {

  private final JdbcClient jdbc;
  private final Outbox outbox;

  private volatile Consumer<String> hook = id -> {};
  private volatile BiConsumer<String, Acknowledgment> acknowledger = ACKNOWLEDGE;

  /** What the manually acknowledging listener does by default: acknowledges. */
  public static final BiConsumer<String, Acknowledgment> ACKNOWLEDGE =
      (id, acknowledgment) -> acknowledgment.acknowledge();

  public StockListener(JdbcClient jdbc, Outbox outbox) {
    this.jdbc = jdbc;
    this.outbox = outbox;
  }

  @KafkaListener(id = "single", topics = "${inbox-test.single-topic}", groupId = "single")
  @IdempotentListener(consumer = "stock")
  public void onSingle(ConsumerRecord<String, String> record) {
    apply(id(record), record.value());
  }

  @KafkaListener(id = "pair-a", topics = "${inbox-test.pair-topic}", groupId = "pair-a")
  @IdempotentListener(consumer = "stock")
  public void onPairA(ConsumerRecord<String, String> record) {
    apply(id(record), record.value());
  }

  @KafkaListener(id = "pair-b", topics = "${inbox-test.pair-topic}", groupId = "pair-b")
  @IdempotentListener(consumer = "stock")
  public void onPairB(ConsumerRecord<String, String> record) {
    apply(id(record), record.value());
  }

  @KafkaListener(id = "header", topics = "${inbox-test.header-topic}", groupId = "header")
  @IdempotentListener
  public void onHeader(String payload, @Header("ce_id") String id) {
    apply(id, payload);
  }

  /** Acknowledges each record itself, after its effect ({@code AckMode.MANUAL_IMMEDIATE}). */
  @KafkaListener(
      id = "manual",
      topics = "${inbox-test.manual-topic}",
      groupId = "manual",
      containerFactory = "manualAckContainerFactory")
  @IdempotentListener(consumer = "stock-manual")
  public void onManual(ConsumerRecord<String, String> record, Acknowledgment acknowledgment) {
    apply(id(record), record.value());
    acknowledger.accept(id(record), acknowledgment);
  }

  /** Sets how the manually acknowledging listener acknowledges, after the effect. */
  public void setAcknowledger(BiConsumer<String, Acknowledgment> acknowledger) {
    this.acknowledger = acknowledger;
  }

  /**
   * Sets what runs with the message id inside the handler's transaction, before the effect. A
   * method, not a field: the bean is a proxy.
   */
  public void setHook(Consumer<String> hook) {
    this.hook = hook;
  }

  private void apply(String id, String payload) {
    hook.accept(id);
    String[] parts = payload.split(":");
    jdbc.sql("UPDATE stock SET reserved = reserved + ? WHERE sku = ?")
        .param(Integer.parseInt(parts[1]))
        .param(parts[0])
        .update();
    jdbc.sql("INSERT INTO effects (message_id) VALUES (?)").param(id).update();
    outbox.publish("stock", parts[0], new StockReserved(parts[0], Integer.parseInt(parts[1])));
  }

  private static String id(ConsumerRecord<String, String> record) {
    org.apache.kafka.common.header.Header header = record.headers().lastHeader("ce_id");
    return new String(header.value(), StandardCharsets.UTF_8);
  }
}
