package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.Set;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ClassUtils;

/**
 * Refuses batch listeners: the inbox records one message id per call of the method, so a method
 * that receives a batch cannot be made idempotent. A batch listener that takes a Spring {@code
 * Message<?>} would otherwise pass the id check and then fail on every batch.
 */
final class BatchListeners {

  private static final ClassLoader LOADER = BatchListeners.class.getClassLoader();
  private static final boolean KAFKA =
      ClassUtils.isPresent("org.springframework.kafka.annotation.KafkaListener", LOADER);
  private static final boolean MESSAGING =
      ClassUtils.isPresent("org.springframework.messaging.Message", LOADER);

  private BatchListeners() {}

  /**
   * Refuses a method whose parameters only a batch listener takes: Kafka {@code ConsumerRecords}, a
   * collection of Kafka {@code ConsumerRecord}s or of Spring {@code Message}s.
   *
   * @throws OutboxException naming the method
   */
  static void refuseBatchParameters(Method method) {
    for (Parameter parameter : method.getParameters()) {
      if ((KAFKA && Kafka.isBatch(parameter.getType())) || isCollectionOfMessages(parameter)) {
        throw refused(method);
      }
    }
  }

  /**
   * Refuses a method that Spring Kafka calls with batches: {@code @KafkaListener(batch = "true")},
   * or a listener whose container factory is a batch one. Asks for container factory beans, so it
   * runs once the application's beans exist.
   *
   * @throws OutboxException naming the method
   */
  static void refuseBatchListener(Method method, BeanFactory beanFactory) {
    if (KAFKA && Kafka.isBatchListener(method, beanFactory)) {
      throw refused(method);
    }
  }

  private static OutboxException refused(Method method) {
    return new OutboxException(
        "@IdempotentListener method "
            + method
            + " is a batch listener: batch listeners are not supported, the inbox records one"
            + " message id per call. Receive one record per call, or call Inbox.handleOnce for"
            + " each record of the batch.");
  }

  private static boolean isCollectionOfMessages(Parameter parameter) {
    if (!Collection.class.isAssignableFrom(parameter.getType())
        || !(parameter.getParameterizedType() instanceof ParameterizedType collection)) {
      return false;
    }
    Type element = collection.getActualTypeArguments()[0];
    Class<?> type =
        element instanceof ParameterizedType parameterized
                && parameterized.getRawType() instanceof Class<?> raw
            ? raw
            : element instanceof Class<?> plain ? plain : Object.class;
    return (KAFKA && Kafka.isRecord(type))
        || (MESSAGING && org.springframework.messaging.Message.class.isAssignableFrom(type));
  }

  /** Loaded only when Spring Kafka is present. */
  private static final class Kafka {

    static boolean isBatch(Class<?> type) {
      return org.apache.kafka.clients.consumer.ConsumerRecords.class.isAssignableFrom(type);
    }

    static boolean isRecord(Class<?> type) {
      return org.apache.kafka.clients.consumer.ConsumerRecord.class.isAssignableFrom(type);
    }

    static boolean isBatchListener(Method method, BeanFactory beanFactory) {
      Set<org.springframework.kafka.annotation.KafkaListener> listeners =
          AnnotatedElementUtils.findMergedRepeatableAnnotations(
              method,
              org.springframework.kafka.annotation.KafkaListener.class,
              org.springframework.kafka.annotation.KafkaListeners.class);
      if (listeners.isEmpty()) {
        listeners =
            AnnotatedElementUtils.findMergedRepeatableAnnotations(
                method.getDeclaringClass(),
                org.springframework.kafka.annotation.KafkaListener.class,
                org.springframework.kafka.annotation.KafkaListeners.class);
      }
      return listeners.stream().anyMatch(listener -> isBatch(listener, beanFactory));
    }

    private static boolean isBatch(
        org.springframework.kafka.annotation.KafkaListener listener, BeanFactory beanFactory) {
      if (!listener.batch().isBlank()) {
        Object batch = ListenerAttributes.resolve(beanFactory, listener.batch());
        return batch instanceof Boolean flag ? flag : Boolean.parseBoolean(String.valueOf(batch));
      }
      return ListenerAttributes.containerFactory(
                  beanFactory,
                  listener.containerFactory(),
                  org.springframework.kafka.annotation.KafkaListenerAnnotationBeanPostProcessor
                      .DEFAULT_KAFKA_LISTENER_CONTAINER_FACTORY_BEAN_NAME)
              instanceof
              org.springframework.kafka.config.AbstractKafkaListenerContainerFactory<?, ?, ?>
                  factory
          && Boolean.TRUE.equals(factory.isBatchListener());
    }
  }
}
