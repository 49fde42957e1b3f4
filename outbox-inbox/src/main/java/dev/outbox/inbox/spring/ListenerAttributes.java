package dev.outbox.inbox.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.config.BeanExpressionContext;
import org.springframework.beans.factory.config.BeanExpressionResolver;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;

/**
 * Reads attributes of {@code @KafkaListener} and {@code @RabbitListener} as Spring Kafka and Spring
 * AMQP do: placeholders and SpEL resolved, a container factory named by bean or given by
 * expression.
 */
final class ListenerAttributes {

  private ListenerAttributes() {}

  /** {@code value} with placeholders and SpEL resolved: a string, or what the expression gives. */
  static @Nullable Object resolve(BeanFactory beanFactory, String value) {
    if (!(beanFactory instanceof ConfigurableBeanFactory configurable)) {
      return value;
    }
    String resolved = configurable.resolveEmbeddedValue(value);
    BeanExpressionResolver expressions = configurable.getBeanExpressionResolver();
    return expressions == null || resolved == null
        ? resolved
        : expressions.evaluate(resolved, new BeanExpressionContext(configurable, null));
  }

  /**
   * The container factory a listener names in {@code attribute}, else the bean {@code defaultName};
   * {@code null} if there is no such bean.
   */
  static @Nullable Object containerFactory(
      BeanFactory beanFactory, String attribute, String defaultName) {
    Object factory = attribute.isBlank() ? defaultName : resolve(beanFactory, attribute);
    if (factory instanceof String name) {
      return beanFactory.containsBean(name) ? beanFactory.getBean(name) : null;
    }
    return factory;
  }
}
