package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import java.lang.annotation.Annotation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.StringUtils;

/**
 * A Spring AMQP listener with a {@code Channel} parameter. Whether it acknowledges itself depends
 * on its container's acknowledge mode, which the inbox reads the way Spring AMQP sets it: {@code
 * ackMode} of the method's {@code @RabbitListener}, else the mode of the container factory it names
 * ({@code rabbitListenerContainerFactory} by default).
 */
final class RabbitAcknowledgement extends ListenerAcknowledgement {

  private final Method method;
  private final int channel;
  private final @Nullable ToLongFunction<@Nullable Object[]> deliveryTag;
  private final BeanFactory beanFactory;
  private volatile @Nullable Boolean manual;

  RabbitAcknowledgement(
      Method method,
      int channel,
      @Nullable ToLongFunction<@Nullable Object[]> deliveryTag,
      BeanFactory beanFactory) {
    this.method = method;
    this.channel = channel;
    this.deliveryTag = deliveryTag;
    this.beanFactory = beanFactory;
  }

  static boolean accepts(Class<?> type) {
    return type == com.rabbitmq.client.Channel.class;
  }

  /**
   * Reads the delivery tag from a {@code @Header(AmqpHeaders.DELIVERY_TAG)} parameter, an AMQP
   * {@code Message} or a Spring messaging {@code Message}; {@code null} if none is there.
   */
  static @Nullable ToLongFunction<@Nullable Object[]> deliveryTag(Parameter[] parameters) {
    for (int i = 0; i < parameters.length; i++) {
      int index = i;
      for (Annotation annotation : parameters[i].getAnnotations()) {
        if (annotation instanceof org.springframework.messaging.handler.annotation.Header header
            && org.springframework.amqp.support.AmqpHeaders.DELIVERY_TAG.equals(
                header.name().isEmpty() ? header.value() : header.name())) {
          return args -> ((Number) args[index]).longValue();
        }
      }
    }
    for (int i = 0; i < parameters.length; i++) {
      int index = i;
      Class<?> type = parameters[i].getType();
      if (org.springframework.amqp.core.Message.class.isAssignableFrom(type)) {
        return args ->
            ((org.springframework.amqp.core.Message) args[index])
                .getMessageProperties()
                .getDeliveryTag();
      }
      if (org.springframework.messaging.Message.class.isAssignableFrom(type)) {
        return args ->
            ((Number)
                    ((org.springframework.messaging.Message<?>) args[index])
                        .getHeaders()
                        .get(org.springframework.amqp.support.AmqpHeaders.DELIVERY_TAG))
                .longValue();
      }
    }
    return null;
  }

  @Override
  boolean manual() {
    Boolean known = manual;
    if (known == null) {
      known = readManual();
      manual = known;
    }
    return known;
  }

  private boolean readManual() {
    Set<org.springframework.amqp.core.AcknowledgeMode> modes =
        listeners().stream().map(this::mode).collect(Collectors.toSet());
    if (modes.size() > 1) {
      throw new OutboxException(
          "@IdempotentListener method "
              + method
              + " has @RabbitListener annotations with different acknowledge modes "
              + modes
              + ": the inbox cannot tell whether to acknowledge a duplicate it skips. Give them"
              + " one mode.");
    }
    boolean manualMode = modes.contains(org.springframework.amqp.core.AcknowledgeMode.MANUAL);
    if (manualMode && deliveryTag == null) {
      throw new OutboxException(
          "@IdempotentListener method "
              + method
              + " acknowledges manually (AcknowledgeMode.MANUAL) but has no parameter carrying"
              + " the delivery tag, so the inbox cannot acknowledge a duplicate it skips: add a"
              + " parameter @Header(AmqpHeaders.DELIVERY_TAG) long deliveryTag, or an"
              + " org.springframework.amqp.core.Message parameter");
    }
    return manualMode;
  }

  private Set<org.springframework.amqp.rabbit.annotation.RabbitListener> listeners() {
    Set<org.springframework.amqp.rabbit.annotation.RabbitListener> listeners =
        AnnotatedElementUtils.findMergedRepeatableAnnotations(
            method,
            org.springframework.amqp.rabbit.annotation.RabbitListener.class,
            org.springframework.amqp.rabbit.annotation.RabbitListeners.class);
    if (listeners.isEmpty()) {
      listeners =
          AnnotatedElementUtils.findMergedRepeatableAnnotations(
              method.getDeclaringClass(),
              org.springframework.amqp.rabbit.annotation.RabbitListener.class,
              org.springframework.amqp.rabbit.annotation.RabbitListeners.class);
    }
    return listeners;
  }

  private org.springframework.amqp.core.AcknowledgeMode mode(
      org.springframework.amqp.rabbit.annotation.RabbitListener listener) {
    if (StringUtils.hasText(listener.ackMode())) {
      Object mode = ListenerAttributes.resolve(beanFactory, listener.ackMode());
      return mode instanceof org.springframework.amqp.core.AcknowledgeMode known
          ? known
          : org.springframework.amqp.core.AcknowledgeMode.valueOf(String.valueOf(mode));
    }
    Object factory =
        ListenerAttributes.containerFactory(
            beanFactory,
            listener.containerFactory(),
            org.springframework.amqp.rabbit.annotation.RabbitListenerAnnotationBeanPostProcessor
                .DEFAULT_RABBIT_LISTENER_CONTAINER_FACTORY_BEAN_NAME);
    if (factory
            instanceof
            org.springframework.amqp.rabbit.listener.RabbitListenerContainerFactory<?> containers
        && containers.createListenerContainer()
            instanceof
            org.springframework.amqp.rabbit.listener.AbstractMessageListenerContainer container) {
      return container.getAcknowledgeMode();
    }
    return org.springframework.amqp.core.AcknowledgeMode.AUTO;
  }

  @Override
  void defer(@Nullable Object[] args, DeferredAcknowledgements deferred) {
    if (args[channel] instanceof com.rabbitmq.client.Channel target) {
      args[channel] = deferring(target, deferred);
    }
  }

  @Override
  void acknowledgeDuplicate(@Nullable Object[] args) throws Exception {
    if (deliveryTag != null && args[channel] instanceof com.rabbitmq.client.Channel target) {
      target.basicAck(deliveryTag.applyAsLong(args), false);
    }
  }

  /**
   * The channel, with {@code basicAck}, {@code basicNack} and {@code basicReject} deferred; every
   * other call goes straight to it.
   */
  private static com.rabbitmq.client.Channel deferring(
      com.rabbitmq.client.Channel target, DeferredAcknowledgements deferred) {
    return (com.rabbitmq.client.Channel)
        Proxy.newProxyInstance(
            RabbitAcknowledgement.class.getClassLoader(),
            new Class<?>[] {com.rabbitmq.client.Channel.class},
            (proxy, called, args) -> {
              String name = called.getName();
              int count = called.getParameterCount();
              if (name.equals("basicAck") && count == 2) {
                long tag = (Long) args[0];
                boolean multiple = (Boolean) args[1];
                deferred.acknowledge("basicAck(" + tag + ")", () -> target.basicAck(tag, multiple));
                return null;
              }
              if (name.equals("basicNack") && count == 3) {
                long tag = (Long) args[0];
                boolean multiple = (Boolean) args[1];
                boolean requeue = (Boolean) args[2];
                deferred.reject(
                    "basicNack(" + tag + ")", () -> target.basicNack(tag, multiple, requeue));
                return null;
              }
              if (name.equals("basicReject") && count == 2) {
                long tag = (Long) args[0];
                boolean requeue = (Boolean) args[1];
                deferred.reject("basicReject(" + tag + ")", () -> target.basicReject(tag, requeue));
                return null;
              }
              if (name.equals("equals") && count == 1) {
                return proxy == args[0];
              }
              if (name.equals("hashCode") && count == 0) {
                return System.identityHashCode(proxy);
              }
              if (name.equals("toString") && count == 0) {
                return "Channel with deferred acknowledgements: " + target;
              }
              try {
                return called.invoke(target, args);
              } catch (InvocationTargetException ex) {
                throw ex.getCause();
              }
            });
  }
}
