package dev.outbox.inbox.spring;

import dev.outbox.inbox.IdempotentListener;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Runs {@link IdempotentListener} methods through the inbox. The inbox is looked up on first use,
 * so this early infrastructure bean does not force the data source to be created early.
 */
final class IdempotentListenerInterceptor implements MethodInterceptor {

  private static final Logger log = LoggerFactory.getLogger(IdempotentListenerInterceptor.class);

  private final ObjectProvider<SpringInbox> inbox;
  private final BeanFactory beanFactory;
  private final Map<Method, Target> targets = new ConcurrentHashMap<>();

  IdempotentListenerInterceptor(ObjectProvider<SpringInbox> inbox, BeanFactory beanFactory) {
    this.inbox = inbox;
    this.beanFactory = beanFactory;
  }

  /**
   * What the interceptor needs of a method: the consumer name, where the id is, and how the method
   * acknowledges its messages.
   */
  record Target(String consumer, MessageIdResolver ids, ListenerAcknowledgement acknowledgement) {}

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
          return new Target(
              consumer,
              MessageIdResolver.forMethod(m),
              ListenerAcknowledgement.forMethod(m, beanFactory));
        });
  }

  /**
   * Checks, once the application's beans exist, how each listener seen so far acknowledges its
   * messages.
   */
  void checkAcknowledgements() {
    targets.values().forEach(target -> target.acknowledgement().manual());
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    Class<?> targetClass =
        invocation.getThis() == null ? null : AopUtils.getTargetClass(invocation.getThis());
    Target target = target(invocation.getMethod(), targetClass);
    if (target == null) {
      return invocation.proceed();
    }
    @Nullable Object[] args = invocation.getArguments();
    String messageId = target.ids().resolve(args);
    ListenerAcknowledgement acknowledgement = target.acknowledgement();
    boolean manual = acknowledgement.manual();
    SpringInbox.Outcome outcome =
        inbox
            .getObject()
            .handle(
                messageId,
                target.consumer(),
                rollback -> {
                  if (manual) {
                    acknowledgement.defer(
                        args,
                        DeferredAcknowledgements.untilTransactionEnds(
                            messageId, target.consumer(), rollback));
                  }
                  return invocation.proceed();
                });
    if (outcome.duplicate() && manual) {
      acknowledgement.acknowledgeDuplicate(args);
      log.debug("Acknowledged duplicate message {} for consumer {}", messageId, target.consumer());
    }
    return outcome.result();
  }
}
