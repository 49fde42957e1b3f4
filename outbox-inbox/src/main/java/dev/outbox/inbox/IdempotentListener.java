package dev.outbox.inbox;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a Spring Kafka {@code @KafkaListener} or Spring AMQP {@code @RabbitListener} method
 * idempotent: it runs at most once in effect per message id, through the application's {@link
 * Inbox} bean (the auto-configured one, or the application's own, which replaces it).
 *
 * <p>The method runs in a database transaction together with the inbox record: the caller's
 * transaction on the inbox's data source if one is active, else a new one. A message already
 * handled by this consumer is acknowledged without calling the method (it returns {@code null}).
 *
 * <p>The message id is read from a parameter of the method, one of:
 *
 * <ul>
 *   <li>a Kafka {@code ConsumerRecord}: header {@code ce_id};
 *   <li>an AMQP {@code org.springframework.amqp.core.Message}: the {@code message_id} property,
 *       else header {@code cloudEvents_id} or {@code cloudEvents:id};
 *   <li>an {@code org.springframework.messaging.Message}: header {@code ce_id}, {@code
 *       amqp_messageId}, {@code cloudEvents_id} or {@code cloudEvents:id};
 *   <li>a {@code String}, {@code UUID} or {@code byte[]} parameter annotated {@code @Header} with
 *       one of those header names.
 * </ul>
 *
 * A method with none of these fails at startup; a message without the id fails with {@link
 * MissingMessageIdException} naming the header that was missing. Batch listeners are not supported
 * and fail at startup (a Kafka listener made one by {@code @KafkaListener(batch)} or its container
 * factory, or taking a batch type such as {@code List<ConsumerRecord>}): use {@link
 * Inbox#handleOnce} per record.
 *
 * <p>Listeners that acknowledge their messages themselves (Spring Kafka's {@code MANUAL} and {@code
 * MANUAL_IMMEDIATE} ack modes, with an {@code Acknowledgment} parameter; Spring AMQP's {@code
 * MANUAL} mode, with a {@code Channel} parameter and the delivery tag):
 *
 * <ul>
 *   <li>a duplicate the inbox skips is acknowledged by the inbox ({@code acknowledge()}, or {@code
 *       basicAck} of its delivery tag on the listener's channel);
 *   <li>the method's own acknowledgements are held back until the inbox transaction has ended: sent
 *       after its commit, not sent after a rollback (the exception propagates, the message comes
 *       again);
 *   <li>a negative acknowledgement ({@code nack}, {@code basicNack}, {@code basicReject}) rolls the
 *       inbox transaction back, so the message is not recorded as handled, and is sent after the
 *       rollback.
 * </ul>
 *
 * The acknowledge mode of a RabbitMQ listener is read from its {@code @RabbitListener(ackMode)},
 * else from its container factory; see docs/consumers.md.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface IdempotentListener {

  /**
   * The consumer's stable name, part of the inbox key: two consumers of one message each handle it
   * once. Defaults to the declaring class's simple name and the method name ({@code
   * StockListener.onOrderPlaced}); set it explicitly if the method may be renamed, or to share one
   * name between several listener methods. Classes that inherit one annotated method would share
   * its default name, and fail at startup: override the method in each with a name of its own.
   */
  String consumer() default "";
}
