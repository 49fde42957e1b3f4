package dev.outbox.inbox.spring;

import dev.outbox.inbox.IdempotentListener;
import java.lang.reflect.Method;
import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Applies {@link IdempotentListenerInterceptor} to methods annotated with {@link
 * IdempotentListener}; a method whose message id cannot be found fails when its bean is created,
 * one without an inbox or whose acknowledgements cannot be handled once all singletons exist.
 */
final class IdempotentListenerAdvisor extends AbstractPointcutAdvisor
    implements SmartInitializingSingleton {

  private final transient IdempotentListenerInterceptor interceptor;
  private final Pointcut pointcut;

  IdempotentListenerAdvisor(IdempotentListenerInterceptor interceptor) {
    this.interceptor = interceptor;
    this.pointcut =
        new StaticMethodMatcherPointcut() {
          @Override
          public boolean matches(Method method, Class<?> targetClass) {
            return interceptor.target(method, targetClass) != null;
          }
        };
  }

  @Override
  public void afterSingletonsInstantiated() {
    interceptor.checkTargets();
  }

  @Override
  public Pointcut getPointcut() {
    return pointcut;
  }

  @Override
  public Advice getAdvice() {
    return interceptor;
  }
}
