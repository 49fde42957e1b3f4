package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.inbox.IdempotentListener;
import dev.outbox.inbox.Inbox;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Runs {@link IdempotentListener} methods through the application's {@link Inbox} (the
 * auto-configured one, or the application's own). The inbox is looked up on first use, so this
 * early infrastructure bean does not force the data source to be created early.
 */
final class IdempotentListenerInterceptor implements MethodInterceptor {

  private static final Logger log = LoggerFactory.getLogger(IdempotentListenerInterceptor.class);

  private final ObjectProvider<Inbox> inbox;
  private final BeanFactory beanFactory;
  private final Map<Method, Target> targets = new ConcurrentHashMap<>();
  private final DefaultConsumerNames defaultNames = new DefaultConsumerNames();

  IdempotentListenerInterceptor(ObjectProvider<Inbox> inbox, BeanFactory beanFactory) {
    this.inbox = inbox;
    this.beanFactory = beanFactory;
  }

  /**
   * What the interceptor needs of a method: the consumer name, where the id is, and how the method
   * acknowledges its messages.
   */
  record Target(
      Method method,
      String consumer,
      MessageIdResolver ids,
      ListenerAcknowledgement acknowledgement) {}

  /**
   * The target of {@code method} if it is annotated, checked when the method is first seen (at
   * startup, when its bean is proxied).
   *
   * @throws dev.outbox.OutboxException if the method cannot be made idempotent, or if beans of
   *     another class run it under the same default consumer name
   */
  @Nullable Target target(Method method, @Nullable Class<?> targetClass) {
    Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
    IdempotentListener annotation =
        AnnotatedElementUtils.findMergedAnnotation(specific, IdempotentListener.class);
    if (annotation == null) {
      return null;
    }
    boolean defaultName = annotation.consumer().isBlank();
    if (defaultName && targetClass != null) {
      defaultNames.claim(specific, targetClass);
    }
    return targets.computeIfAbsent(
        specific,
        m -> {
          BatchListeners.refuseBatchParameters(m);
          return new Target(
              m,
              defaultName ? DefaultConsumerNames.of(m) : annotation.consumer(),
              MessageIdResolver.forMethod(m),
              ListenerAcknowledgement.forMethod(m, beanFactory));
        });
  }

  /**
   * Checks, once the application's beans exist, that the listeners seen so far have one inbox to
   * run through, are not batch listeners, and how each acknowledges its messages.
   *
   * @throws OutboxException if there are listeners but no inbox, or several; if one is a batch
   *     listener
   */
  void checkTargets() {
    if (targets.isEmpty()) {
      return;
    }
    try {
      inbox.getObject();
    } catch (BeansException ex) {
      throw new OutboxException(
          "@IdempotentListener methods need one Inbox bean to run through: " + ex.getMessage(), ex);
    }
    for (Target target : targets.values()) {
      BatchListeners.refuseBatchListener(target.method(), beanFactory);
      target.acknowledgement().manual();
    }
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    Class<?> targetClass =
        invocation.getThis() == null ? null : AopUtils.getTargetClass(invocation.getThis());
    Target target =
        targets.get(AopUtils.getMostSpecificMethod(invocation.getMethod(), targetClass));
    if (target == null) {
      target = target(invocation.getMethod(), targetClass);
    }
    if (target == null) {
      return invocation.proceed();
    }
    @Nullable Object[] args = invocation.getArguments();
    String messageId = target.ids().resolve(args);
    String consumer = target.consumer();
    ListenerAcknowledgement acknowledgement = target.acknowledgement();
    boolean manual = acknowledgement.manual();
    Run run = new Run(invocation, manual ? acknowledgement : null, messageId, consumer);
    boolean handled;
    try {
      handled = inbox.getObject().handleOnce(messageId, consumer, run);
    } catch (CheckedFailure failure) {
      throw failure.getCause();
    } catch (Rejected rejected) {
      if (TransactionSynchronizationManager.isActualTransactionActive()) {
        throw rejected; // the caller's transaction, which the inbox joined, rolls back with it
      }
      return null;
    }
    if (!handled && manual) {
      acknowledgement.acknowledgeDuplicate(args);
      log.debug("Acknowledged duplicate message {} for consumer {}", messageId, consumer);
    }
    return run.result;
  }

  /** Runs the listener method inside the inbox's transaction. */
  private static final class Run implements Runnable {

    private final MethodInvocation invocation;
    private final @Nullable ListenerAcknowledgement acknowledgement;
    private final String messageId;
    private final String consumer;
    @Nullable Object result;

    Run(
        MethodInvocation invocation,
        @Nullable ListenerAcknowledgement acknowledgement,
        String messageId,
        String consumer) {
      this.invocation = invocation;
      this.acknowledgement = acknowledgement;
      this.messageId = messageId;
      this.consumer = consumer;
    }

    @Override
    public void run() {
      DeferredAcknowledgements deferred = null;
      if (acknowledgement != null) {
        deferred = DeferredAcknowledgements.untilTransactionEnds(messageId, consumer);
        acknowledgement.defer(invocation.getArguments(), deferred);
      }
      try {
        result = invocation.proceed();
      } catch (RuntimeException | Error ex) {
        throw ex;
      } catch (Throwable ex) {
        throw new CheckedFailure(ex);
      }
      if (deferred != null && deferred.rejected()) {
        throw new Rejected(messageId, consumer);
      }
    }
  }

  /** Carries a checked exception of the listener method through the inbox, which rolls back. */
  private static final class CheckedFailure extends RuntimeException {
    CheckedFailure(Throwable cause) {
      super(cause);
    }
  }

  /**
   * Rolls the inbox transaction back after the listener rejected its message (a negative
   * acknowledgement): the message was not handled.
   */
  static final class Rejected extends OutboxException {
    Rejected(String messageId, String consumer) {
      super(
          "The listener rejected message "
              + messageId
              + " (a negative acknowledgement), so consumer "
              + consumer
              + " did not handle it: its handling is rolled back");
    }
  }
}
