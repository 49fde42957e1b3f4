package dev.outbox.spring;

import dev.outbox.PublishEvent;
import org.aopalliance.aop.Advice;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.core.Ordered;

/**
 * Applies {@link PublishEventInterceptor} to methods annotated with {@link PublishEvent}.
 *
 * <p>It runs inside Spring's transaction advisor, so on a method that is also
 * {@code @Transactional} the event is written in the transaction that annotation starts or joins,
 * with the method's writes. Its order is the lowest precedence, which is also the default of
 * Spring's transaction advisor; at equal precedence Spring applies advisors in the order their
 * beans are defined, and the transaction advisor's comes first: this auto-configuration runs after
 * Spring Boot's {@code TransactionAutoConfiguration}, and an application's own
 * {@code @EnableTransactionManagement} is processed before any auto-configuration.
 */
final class PublishEventAdvisor extends AbstractPointcutAdvisor {

  private final Pointcut pointcut = new AnnotationMatchingPointcut(null, PublishEvent.class, true);
  private final transient Advice advice;

  PublishEventAdvisor(Advice advice) {
    this.advice = advice;
    setOrder(Ordered.LOWEST_PRECEDENCE);
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
