package dev.outbox.spring;

import dev.outbox.Outbox;
import java.lang.reflect.Method;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.ResourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Resolves the outbox, its data source and the transaction manager on first use, so the advisor (an
 * early infrastructure bean) does not force them to be created before the application's beans.
 */
final class LazyPublishEventInterceptor implements MethodInterceptor {

  private final ObjectProvider<Outbox> outbox;
  private final ObjectProvider<DataSource> dataSource;
  private final ObjectProvider<PlatformTransactionManager> transactionManager;
  private final UnaryOperator<String> placeholders;
  private volatile @Nullable PublishEventInterceptor delegate;

  LazyPublishEventInterceptor(
      ObjectProvider<Outbox> outbox,
      ObjectProvider<DataSource> dataSource,
      ObjectProvider<PlatformTransactionManager> transactionManager,
      UnaryOperator<String> placeholders) {
    this.outbox = outbox;
    this.dataSource = dataSource;
    this.transactionManager = transactionManager;
    this.placeholders = placeholders;
  }

  @Override
  public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
    PublishEventInterceptor current = delegate;
    if (current == null) {
      Outbox resolved = outbox.getObject();
      // The DataSource the outbox writes to: a SpringOutbox's own (the application may define one
      // for a data source that is not the primary one), else the unique or primary one
      DataSource target =
          resolved instanceof SpringOutbox spring ? spring.dataSource() : dataSource.getIfUnique();
      PlatformTransactionManager manager = managerOf(target);
      TransactionTemplate template = null;
      if (manager != null) {
        // Used only when no transaction is active on the outbox's DataSource. A new one then: it
        // also steps out of a completed transaction whose resources are still bound (an
        // after-commit callback), where joining would write into a transaction that never
        // commits again.
        template = new TransactionTemplate(manager);
        template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
      }
      current = new PublishEventInterceptor(resolved, target, template, placeholders);
      delegate = current;
    }
    return current.invoke(invocation);
  }

  /**
   * The transaction manager to start the outbox's transactions with: the single (or primary) one if
   * it manages {@code target}, else the first that does (a JDBC or JPA manager next to a primary
   * Kafka one, say), else the single one, whose transaction is then found not to be on the outbox's
   * DataSource and the call fails saying so.
   */
  private @Nullable PlatformTransactionManager managerOf(@Nullable DataSource target) {
    PlatformTransactionManager unique = transactionManager.getIfUnique();
    if (target == null || (unique != null && manages(unique, target))) {
      return unique;
    }
    return transactionManager
        .orderedStream()
        .filter(candidate -> manages(candidate, target))
        .findFirst()
        .orElse(unique);
  }

  /**
   * Whether {@code manager} runs its transactions on {@code target}: a JDBC manager of it, or a
   * manager exposing it as its {@code getDataSource()} (JPA's).
   */
  private static boolean manages(PlatformTransactionManager manager, DataSource target) {
    if (manager instanceof ResourceTransactionManager resource
        && resource.getResourceFactory() == target) {
      return true;
    }
    Method getDataSource = ClassUtils.getMethodIfAvailable(manager.getClass(), "getDataSource");
    if (getDataSource == null
        || !DataSource.class.isAssignableFrom(getDataSource.getReturnType())) {
      return false;
    }
    return ReflectionUtils.invokeMethod(getDataSource, manager) == target;
  }
}
