package dev.outbox.spring;

import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.OutboxMessage;
import dev.outbox.PublishEvent;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
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
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes the events of {@link PublishEvent} methods. Runs the method and the write in the
 * transaction active on the outbox's {@link DataSource}, or in a new one when none is (REQUIRED
 * semantics), so the method's writes and its events commit together; any exception rolls the new
 * transaction back. A transaction of another resource (another data source, a Kafka transaction)
 * does not count, nor does a transaction that has completed and runs its after-completion callbacks
 * (an {@code @TransactionalEventListener} after commit): the method gets a new one there too.
 *
 * <p>In a transaction it joined, an event that cannot be written (an expression that fails, a key
 * that is null, a payload that cannot be serialized) fails the method and also fails that
 * transaction's commit: its caller may catch the exception, but the method's writes never commit
 * without their event.
 */
final class PublishEventInterceptor implements MethodInterceptor {

  private static final SpelExpressionParser PARSER = new SpelExpressionParser();

  private final Outbox outbox;
  private final @Nullable DataSource dataSource;
  private final @Nullable TransactionTemplate transactionTemplate;
  private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();
  private final Map<String, Expression> expressions = new ConcurrentHashMap<>();
  private final UnaryOperator<String> placeholders;
  private final Map<String, String> destinations = new ConcurrentHashMap<>();

  /**
   * @param dataSource the outbox's data source: a transaction counts as the business transaction
   *     only if it is bound to this one; null when it is not known (no single data source), and
   *     then any active transaction counts
   * @param transactionTemplate starts a new transaction when none is active on the data source
   *     (REQUIRES_NEW, so that it never joins a completed one); null when there is no single
   *     transaction manager
   */
  PublishEventInterceptor(
      Outbox outbox,
      @Nullable DataSource dataSource,
      @Nullable TransactionTemplate transactionTemplate,
      UnaryOperator<String> placeholders) {
    this.outbox = outbox;
    this.dataSource = dataSource;
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
    checkResultType(specific, annotation);
    if (inOutboxTransaction()) {
      return proceedAndPublish(invocation, specific, annotation, true);
    }
    if (transactionTemplate == null) {
      throw new OutboxException(
          "@PublishEvent on "
              + specific
              + " needs a transaction on the outbox's DataSource, but none is active and there is"
              + " no single PlatformTransactionManager to start one; nothing was run or written.");
    }
    PublishEvent publishEvent = annotation;
    try {
      return transactionTemplate.execute(
          status -> {
            if (!inOutboxTransaction()) {
              throw notOnTheOutboxDataSource(specific, transactionTemplate);
            }
            try {
              return proceedAndPublish(invocation, specific, publishEvent, false);
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

  private static OutboxException notOnTheOutboxDataSource(
      Method method, TransactionTemplate template) {
    String manager = String.valueOf(template.getTransactionManager().getClass().getName());
    if (!TransactionSynchronizationManager.isSynchronizationActive()) {
      return new OutboxException(
          "@PublishEvent on "
              + method
              + " started a transaction with "
              + manager
              + ", which runs without transaction synchronization (SYNCHRONIZATION_NEVER): the"
              + " outbox cannot take part in it; nothing was run or written.");
    }
    return new OutboxException(
        "@PublishEvent on "
            + method
            + " started a transaction with "
            + manager
            + ", which does not manage the outbox's DataSource: the method's writes and its event"
            + " would not commit together. Define a transaction manager of the outbox's DataSource"
            + " (JDBC or JPA), or run the method in a transaction of that manager; nothing was run"
            + " or written.");
  }

  /**
   * Refuses, before the method runs, a method whose result cannot be its event: {@code void}, or a
   * result that completes later (a future, a reactive publisher), whose event would not be known
   * inside the transaction.
   */
  private static void checkResultType(Method method, PublishEvent annotation) {
    if (!annotation.payload().isEmpty()) {
      return;
    }
    Class<?> type = method.getReturnType();
    if (type == void.class || type == Void.class) {
      throw new OutboxException(
          "@PublishEvent on "
              + method
              + " has no event to publish: the method returns void. Return the event, or name it"
              + " with payload = \"#argument\"; nothing was run or written.");
    }
    if (Future.class.isAssignableFrom(type)
        || CompletionStage.class.isAssignableFrom(type)
        || isReactivePublisher(type)) {
      throw new OutboxException(
          "@PublishEvent on "
              + method
              + " returns a "
              + type.getSimpleName()
              + ": its event would be known only after the method returned, outside its"
              + " transaction. Return the event itself (or name it with payload = \"...\");"
              + " nothing was run or written.");
    }
  }

  private static boolean isReactivePublisher(@Nullable Class<?> type) {
    if (type == null) {
      return false;
    }
    if (type.getName().equals("org.reactivestreams.Publisher")) {
      return true;
    }
    for (Class<?> implemented : type.getInterfaces()) {
      if (isReactivePublisher(implemented)) {
        return true;
      }
    }
    return isReactivePublisher(type.getSuperclass());
  }

  /** Whether the business transaction is active on the outbox's data source. */
  private boolean inOutboxTransaction() {
    return dataSource == null
        ? TransactionSynchronizationManager.isActualTransactionActive()
            && !SpringOutbox.hasCompleted()
        : SpringOutbox.transactionActiveOn(dataSource);
  }

  private @Nullable Object proceedAndPublish(
      MethodInvocation invocation, Method method, PublishEvent annotation, boolean joined)
      throws Throwable {
    // A caller asking after this method throws must not get the ids of an earlier one.
    PublishedEvents.remember(List.of());
    Object result = invocation.proceed();
    try {
      publish(invocation.getArguments(), method, annotation, result);
    } catch (RuntimeException | Error ex) {
      if (joined && TransactionSynchronizationManager.isSynchronizationActive()) {
        TransactionSynchronizationManager.registerSynchronization(new FailAtCommit(method, ex));
      }
      throw ex;
    }
    return result;
  }

  private void publish(
      Object[] args, Method method, PublishEvent annotation, @Nullable Object result) {
    Object payload =
        annotation.payload().isEmpty()
            ? result
            : evaluate(annotation.payload(), method, args, result, null);
    if (payload == null) {
      PublishedEvents.remember(List.of());
      return;
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
        if (value == null) {
          throw new OutboxException(
              "The key '"
                  + annotation.key()
                  + "' of @PublishEvent on "
                  + method
                  + " is null for an event of type "
                  + element.getClass().getName()
                  + ". A keyed event needs its key, which keeps its order: check the expression"
                  + " (argument names such as #orderId need the -parameters compiler flag; #p0"
                  + " and #a0 do not), or leave key empty for unordered events.");
        }
        key = value.toString();
      }
      String aggregateType =
          annotation.aggregateType().isEmpty() ? null : annotation.aggregateType();
      messages.add(new OutboxMessage(destination, key, aggregateType, element, Map.of()));
    }
    PublishedEvents.remember(outbox.publishAll(messages));
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
    if (payload instanceof Optional<?> optional) {
      return optional.isPresent() ? List.of(optional.get()) : List.of();
    }
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

  /**
   * Fails the commit of a transaction in which a {@code @PublishEvent} method that joined it could
   * not write its event, so the method's writes roll back even if its caller caught the exception,
   * unless they were rolled back already (to a savepoint set before them). Spring rolls a
   * transaction back when a synchronization throws before it commits.
   */
  private static final class FailAtCommit implements TransactionSynchronization {
    private final Method method;
    private final Throwable failure;
    private final Set<Object> laterSavepoints = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean rolledBack;

    FailAtCommit(Method method, Throwable failure) {
      this.method = method;
      this.failure = failure;
    }

    @Override
    public void savepoint(Object savepoint) {
      laterSavepoints.add(savepoint);
    }

    /**
     * A rollback to a savepoint set before the failure (the method ran in a {@code NESTED}
     * transaction) undid the method's writes: the commit may go on.
     */
    @Override
    public void savepointRollback(Object savepoint) {
      if (!laterSavepoints.contains(savepoint)) {
        rolledBack = true;
      }
    }

    @Override
    public void beforeCommit(boolean readOnly) {
      if (rolledBack) {
        return;
      }
      throw new OutboxException(
          "Rolled back: @PublishEvent on "
              + method
              + " could not write its event in this transaction ("
              + failure.getMessage()
              + "), so the method's writes must not commit without it.",
          failure);
    }
  }

  /** Carries a checked exception of the method out of the transaction callback. */
  private static final class CheckedFailure extends RuntimeException {
    CheckedFailure(Throwable cause) {
      super(cause);
    }
  }
}
