package dev.outbox.spring;

import dev.outbox.Outbox;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Resolves the outbox and the transaction manager on first use, so the advisor (an early
 * infrastructure bean) does not force them to be created before the application's beans.
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
      PlatformTransactionManager manager = transactionManager.getIfUnique();
      TransactionTemplate template = null;
      if (manager != null) {
        // Used only when no transaction is active on the outbox's DataSource. A new one then: it
        // also steps out of a completed transaction whose resources are still bound (an
        // after-commit callback), where joining would write into a transaction that never
        // commits again.
        template = new TransactionTemplate(manager);
        template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
      }
      // The outbox's DataSource: the one the auto-configuration gives the outbox (unique or
      // primary)
      current =
          new PublishEventInterceptor(
              outbox.getObject(), dataSource.getIfUnique(), template, placeholders);
      delegate = current;
    }
    return current.invoke(invocation);
  }
}
