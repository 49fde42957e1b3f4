package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.util.ClassUtils;

/**
 * How a listener method acknowledges its messages, if it does so itself: in Spring Kafka's {@code
 * MANUAL} and {@code MANUAL_IMMEDIATE} ack modes it takes an {@code Acknowledgment}; in Spring
 * AMQP's {@code MANUAL} mode it takes the {@code Channel} and acknowledges the delivery tag on it.
 * For such a method the inbox acknowledges the duplicates it skips, and holds the method's own
 * acknowledgements back until the inbox transaction has ended ({@link DeferredAcknowledgements}).
 * Decided once per method.
 */
abstract class ListenerAcknowledgement {

  private static final ClassLoader LOADER = ListenerAcknowledgement.class.getClassLoader();
  private static final boolean KAFKA =
      ClassUtils.isPresent("org.springframework.kafka.support.Acknowledgment", LOADER);
  private static final boolean RABBIT =
      ClassUtils.isPresent("com.rabbitmq.client.Channel", LOADER)
          && ClassUtils.isPresent(
              "org.springframework.amqp.rabbit.annotation.RabbitListener", LOADER);

  /** A method the listener container acknowledges for. */
  static final ListenerAcknowledgement CONTAINER =
      new ListenerAcknowledgement() {
        @Override
        boolean manual() {
          return false;
        }

        @Override
        void defer(@Nullable Object[] args, DeferredAcknowledgements deferred) {}

        @Override
        void acknowledgeDuplicate(@Nullable Object[] args) {}
      };

  /**
   * Whether the method acknowledges its messages itself. May look at the listener's container
   * factory, so it is asked once the application's beans exist.
   *
   * @throws OutboxException if the method acknowledges itself but the inbox cannot acknowledge a
   *     duplicate for it
   */
  abstract boolean manual();

  /**
   * Replaces the acknowledging argument in {@code args} with one that defers to {@code deferred}.
   */
  abstract void defer(@Nullable Object[] args, DeferredAcknowledgements deferred);

  /**
   * Acknowledges a delivery the inbox skipped as a duplicate; only for {@link #manual()} methods.
   */
  abstract void acknowledgeDuplicate(@Nullable Object[] args) throws Exception;

  static ListenerAcknowledgement forMethod(Method method, BeanFactory beanFactory) {
    Parameter[] parameters = method.getParameters();
    for (int i = 0; i < parameters.length; i++) {
      Class<?> type = parameters[i].getType();
      if (KAFKA && KafkaAcknowledgement.accepts(type)) {
        return new KafkaAcknowledgement(i);
      }
      if (RABBIT && RabbitAcknowledgement.accepts(type)) {
        return new RabbitAcknowledgement(
            method, i, RabbitAcknowledgement.deliveryTag(parameters), beanFactory);
      }
    }
    return CONTAINER;
  }
}
