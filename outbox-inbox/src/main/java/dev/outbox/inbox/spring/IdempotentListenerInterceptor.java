package dev.outbox.inbox.spring;

import dev.outbox.inbox.IdempotentListener;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Runs {@link IdempotentListener} methods through the inbox. The inbox is looked up on first use,
 * so this early infrastructure bean does not force the data source to be created early.
 */
final class IdempotentListenerInterceptor implements MethodInterceptor {

  private final ObjectProvider<SpringInbox> inbox;
  private final Map<Method, Target> targets = new ConcurrentHashMap<>();

  IdempotentListenerInterceptor(ObjectProvider<SpringInbox> inbox) {
    this.inbox = inbox;
  }

  /** What the interceptor needs of a method: the consumer name and where the id is. */
  record Target(String consumer, MessageIdResolver ids) {}

  /**
   * The target of {@code method} if it is annotated, checked when the method is first seen (at
   * startup, when its bean is proxied).
   */
  @Nullable Target target(Method method, @Nullable Class<?> targetClass) {
    Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
    IdempotentListener annotation =
        AnnotatedElementUtils.findMergedAnnotation(specific, IdempotentListener.class);
    if (annotation == null) {
      return null;
    }
    return targets.computeIfAbsent(
        specific,
        m -> {
          String consumer =
              annotation.consumer().isBlank()
                  ? m.getDeclaringClass().getSimpleName() + "." + m.getName()
                  : annotation.consumer();
          return new Target(consumer, MessageIdResolver.forMethod(m));
        });
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    Class<?> targetClass =
        invocation.getThis() == null ? null : AopUtils.getTargetClass(invocation.getThis());
    Target target = target(invocation.getMethod(), targetClass);
    if (target == null) {
      return invocation.proceed();
    }
    String messageId = target.ids().resolve(invocation.getArguments());
    return inbox.getObject().handleOnce(messageId, target.consumer(), invocation::proceed);
  }
}
