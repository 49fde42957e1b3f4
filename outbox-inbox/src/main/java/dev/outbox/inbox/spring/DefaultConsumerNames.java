package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.util.ClassUtils;

/**
 * The default consumer name of a listener method — the simple name of the class that declares the
 * method, and the method's name — and a guard against two listener classes sharing one: subclasses
 * that inherit one annotated method would otherwise be one consumer to the inbox, each skipping the
 * messages the other handled. The name itself never changes: inbox rows are keyed by it.
 */
final class DefaultConsumerNames {

  private final Map<String, Class<?>> classes = new ConcurrentHashMap<>();

  static String of(Method method) {
    return method.getDeclaringClass().getSimpleName() + "." + method.getName();
  }

  /**
   * Records that beans of {@code listenerClass} run {@code method} under its default name.
   *
   * @throws OutboxException if beans of another class do too
   */
  void claim(Method method, Class<?> listenerClass) {
    Class<?> claimant = ClassUtils.getUserClass(listenerClass);
    String name = of(method);
    Class<?> other = classes.putIfAbsent(name, claimant);
    if (other != null && other != claimant) {
      throw new OutboxException(
          "@IdempotentListener method "
              + method
              + " runs in beans of "
              + other.getName()
              + " and of "
              + claimant.getName()
              + " under one default consumer name, "
              + name
              + ": each would skip the messages the other handled. Give each class its own name:"
              + " override the method in each, annotated @IdempotentListener(consumer = \"…\").");
    }
  }
}
