package dev.outbox.testing;

import dev.outbox.transport.OutboxTransport;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/**
 * Wraps the application's {@link OutboxTransport} in a {@link DuplicatingOutboxTransport} when
 * {@code outbox.test.duplicate-copies} is more than 1.
 */
class DuplicateDeliveryPostProcessor implements BeanPostProcessor {

  private final Environment environment;

  DuplicateDeliveryPostProcessor(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    if (!(bean instanceof OutboxTransport transport)
        || bean instanceof DuplicatingOutboxTransport) {
      return bean;
    }
    OutboxTestProperties properties =
        Binder.get(environment)
            .bind("outbox.test", OutboxTestProperties.class)
            .orElseGet(OutboxTestProperties::new);
    if (properties.getDuplicateCopies() == 1) {
      return bean;
    }
    return new DuplicatingOutboxTransport(
        transport, properties.getDuplicateCopies(), properties.getDuplicateDelay());
  }
}
