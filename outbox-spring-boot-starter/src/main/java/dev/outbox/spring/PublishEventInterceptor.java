package dev.outbox.spring;

import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.OutboxMessage;
import dev.outbox.PublishEvent;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes the events of {@link PublishEvent} methods. Runs the method and the write in the active
 * transaction, or in a new one (REQUIRED) when none is active, so the method's writes and its
 * events commit together; any exception rolls the new transaction back.
 */
final class PublishEventInterceptor implements MethodInterceptor {

  private static final SpelExpressionParser PARSER = new SpelExpressionParser();

  private final Outbox outbox;
  private final @Nullable TransactionTemplate transactionTemplate;
  private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
  private final Map<String, Expression> expressions = new ConcurrentHashMap<>();
  private final UnaryOperator<String> placeholders;
  private final Map<String, String> destinations = new ConcurrentHashMap<>();

  PublishEventInterceptor(
      Outbox outbox,
      @Nullable TransactionTemplate transactionTemplate,
      UnaryOperator<String> placeholders) {
    this.outbox = outbox;
    this.transactionTemplate = transactionTemplate;
    this.placeholders = placeholders;
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    Method method = invocation.getMethod();
    Class<?> targetClass =
        invocation.getThis() == null ? method.getDeclaringClass() : invocation.getThis().getClass();
    Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
    PublishEvent annotation =
        AnnotatedElementUtils.findMergedAnnotation(specific, PublishEvent.class);
    if (annotation == null) {
      annotation = AnnotatedElementUtils.findMergedAnnotation(method, PublishEvent.class);
    }
    if (annotation == null) {
      return invocation.proceed();
    }
    if (annotation.payload().isEmpty()
        && (specific.getReturnType() == void.class || specific.getReturnType() == Void.class)) {
      throw new OutboxException(
          "@PublishEvent on "
              + specific
              + " has no event to publish: the method returns void. Return the event, or name it"
              + " with payload = \"#argument\"; nothing was run or written.");
    }
    if (TransactionSynchronizationManager.isActualTransactionActive()) {
      return proceedAndPublish(invocation, specific, annotation);
    }
    if (transactionTemplate == null) {
      throw new OutboxException(
          "@PublishEvent on "
              + specific
              + " needs a transaction, but none is active and there is no single"
              + " PlatformTransactionManager to start one.");
    }
    PublishEvent publishEvent = annotation;
    try {
      return transactionTemplate.execute(
          status -> {
            try {
              return proceedAndPublish(invocation, specific, publishEvent);
            } catch (RuntimeException | Error ex) {
              throw ex;
            } catch (Throwable ex) {
              throw new CheckedFailure(ex);
            }
          });
    } catch (CheckedFailure failure) {
      throw failure.getCause();
    }
  }

  private @Nullable Object proceedAndPublish(
      MethodInvocation invocation, Method method, PublishEvent annotation) throws Throwable {
    Object result = invocation.proceed();
    Object[] args = invocation.getArguments();
    Object payload =
        annotation.payload().isEmpty()
            ? result
            : evaluate(annotation.payload(), method, args, result, null);
    if (payload == null) {
      PublishedEvents.remember(List.of());
      return result;
    }
    String destination = destination(annotation.destination(), method);
    List<OutboxMessage> messages = new ArrayList<>();
    for (Object element : elements(payload)) {
      if (element == null) {
        continue;
      }
      String key = null;
      if (!annotation.key().isEmpty()) {
        Object value = evaluate(annotation.key(), method, args, result, element);
        key = value == null ? null : value.toString();
      }
      String aggregateType =
          annotation.aggregateType().isEmpty() ? null : annotation.aggregateType();
      messages.add(new OutboxMessage(destination, key, aggregateType, element, Map.of()));
    }
    PublishedEvents.remember(outbox.publishAll(messages));
    return result;
  }

  /** The destination with its {@code ${...}} placeholders resolved (once per distinct value). */
  private String destination(String declared, Method method) {
    if (!declared.contains("${")) {
      return declared;
    }
    String resolved = destinations.get(declared);
    if (resolved == null) {
      try {
        resolved = placeholders.apply(declared);
      } catch (IllegalArgumentException ex) {
        throw new OutboxException(
            "Cannot resolve the destination '"
                + declared
                + "' of @PublishEvent on "
                + method
                + ": "
                + ex.getMessage(),
            ex);
      }
      destinations.put(declared, resolved);
    }
    return resolved;
  }

  private static Iterable<?> elements(Object payload) {
    if (payload instanceof Iterable<?> iterable) {
      return iterable;
    }
    if (payload.getClass().isArray()) {
      int length = Array.getLength(payload);
      List<Object> list = new ArrayList<>(length);
      for (int i = 0; i < length; i++) {
        list.add(Array.get(payload, i));
      }
      return list;
    }
    return List.of(payload);
  }

  private @Nullable Object evaluate(
      String expression,
      Method method,
      Object[] args,
      @Nullable Object result,
      @Nullable Object element) {
    MethodBasedEvaluationContext context =
        new MethodBasedEvaluationContext(result, method, args, parameterNames);
    context.setVariable("result", result);
    context.setVariable("event", element);
    Expression parsed = expressions.computeIfAbsent(expression, PARSER::parseExpression);
    try {
      return parsed.getValue(context);
    } catch (RuntimeException ex) {
      throw new OutboxException(
          "Cannot evaluate '"
              + expression
              + "' of @PublishEvent on "
              + method
              + ": "
              + ex.getMessage(),
          ex);
    }
  }

  /** Carries a checked exception of the method out of the transaction callback. */
  private static final class CheckedFailure extends RuntimeException {
    CheckedFailure(Throwable cause) {
      super(cause);
    }
  }
}
