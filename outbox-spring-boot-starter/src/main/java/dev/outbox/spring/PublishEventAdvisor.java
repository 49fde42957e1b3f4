package dev.outbox.spring;

import dev.outbox.PublishEvent;
import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;

/** Applies {@link PublishEventInterceptor} to methods annotated with {@link PublishEvent}. */
final class PublishEventAdvisor extends AbstractPointcutAdvisor {

  private final Pointcut pointcut = new AnnotationMatchingPointcut(null, PublishEvent.class, true);
  private final transient Advice advice;

  PublishEventAdvisor(Advice advice) {
    this.advice = advice;
  }

  @Override
  public Pointcut getPointcut() {
    return pointcut;
  }

  @Override
  public Advice getAdvice() {
    return advice;
  }
}
