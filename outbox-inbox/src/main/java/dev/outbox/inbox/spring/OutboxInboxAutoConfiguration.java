package dev.outbox.inbox.spring;

import dev.outbox.inbox.InboxListener;
import dev.outbox.inbox.InboxTable;
import dev.outbox.inbox.MissingMessageIdException;
import dev.outbox.inbox.PostgresInboxStore;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.RelayTiming;
import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.OutboxProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.amqp.autoconfigure.RabbitListenerRetrySettingsCustomizer;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Auto-configuration of the inbox on the application's {@link DataSource}: the table and its
 * migrations, the {@link dev.outbox.inbox.Inbox}, {@link dev.outbox.inbox.IdempotentListener}
 * support, retention and metrics. Every bean backs off when the application defines its own.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
      "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "dev.outbox.spring.OutboxAutoConfiguration"
    })
@ConditionalOnClass(DataSource.class)
@ConditionalOnBean(DataSource.class)
@ConditionalOnProperty(prefix = "outbox.inbox", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(InboxProperties.class)
@Import(OutboxInboxAutoConfiguration.AutoProxyRegistrar.class)
public class OutboxInboxAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  InboxTable inboxTable(InboxProperties properties) {
    return InboxTable.of(properties.getTable().getSchema(), properties.getTable().getName());
  }

  @Bean
  @ConditionalOnMissingBean
  PostgresInboxStore inboxStore(DataSource dataSource, InboxTable inboxTable) {
    return new PostgresInboxStore(dataSource, inboxTable);
  }

  /**
   * Runs after the application's own Flyway/Liquibase/SQL initialization of the same database.
   * Waits for the database at most the outbox's database timeout ({@code
   * outbox.relay.lease-timeout}, at least 5 s), or 10 s with the outbox off.
   */
  @Bean
  @ConditionalOnMissingBean
  @DependsOnDatabaseInitialization
  InboxSchemaInitializer inboxSchemaInitializer(
      DataSource dataSource,
      PostgresInboxStore inboxStore,
      InboxProperties properties,
      ObjectProvider<OutboxProperties> outboxProperties) {
    OutboxProperties outbox = outboxProperties.getIfAvailable();
    return new InboxSchemaInitializer(
        dataSource,
        inboxStore,
        properties.getMigration().isEnabled(),
        outbox != null
            ? OutboxAutoConfiguration.databaseTimeout(outbox)
            : RelayTiming.databaseTimeout(OutboxDefaults.LEASE_TIMEOUT));
  }

  @Bean
  @ConditionalOnMissingBean(dev.outbox.inbox.Inbox.class)
  SpringInbox inbox(
      DataSource dataSource,
      PostgresInboxStore inboxStore,
      InboxSchemaInitializer inboxSchemaInitializer,
      ObjectProvider<PlatformTransactionManager> transactionManager,
      ObjectProvider<InboxListener> listeners) {
    PlatformTransactionManager manager =
        TransactionManagers.forDataSource(transactionManager, dataSource);
    TransactionTemplate template = null;
    if (manager != null) {
      template = new TransactionTemplate(manager);
      template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRED);
    }
    InboxListener listener = CompositeInboxListener.of(listeners.orderedStream().toList());
    return new SpringInbox(
        dataSource, inboxStore, template, listener, inboxSchemaInitializer::initialize);
  }

  @Bean
  @ConditionalOnMissingBean
  InboxCleaner inboxCleaner(PostgresInboxStore inboxStore, InboxProperties properties) {
    return new InboxCleaner(
        inboxStore,
        properties.getRetention(),
        properties.getCleanupInterval(),
        properties.getCleanupBatchSize(),
        Clock.systemUTC());
  }

  @Bean
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  static IdempotentListenerAdvisor idempotentListenerAdvisor(
      ObjectProvider<dev.outbox.inbox.Inbox> inbox, BeanFactory beanFactory) {
    return new IdempotentListenerAdvisor(new IdempotentListenerInterceptor(inbox, beanFactory));
  }

  /** Micrometer counters of handled and duplicate messages. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  static class MetricsConfiguration {

    @Bean
    @ConditionalOnBean(MeterRegistry.class)
    @ConditionalOnMissingBean
    MicrometerInboxListener inboxMetrics(MeterRegistry registry) {
      return new MicrometerInboxListener(registry);
    }
  }

  /**
   * Spring Boot's RabbitMQ listener retries ({@code spring.rabbitmq.listener.simple.retry.*}) do
   * not retry a message without an id: it would fail the same way every time.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(RabbitListenerRetrySettingsCustomizer.class)
  static class RabbitRetryConfiguration {

    @Bean
    RabbitListenerRetrySettingsCustomizer inboxMissingMessageIdIsNotRetried() {
      return settings -> {
        List<Class<? extends Throwable>> excludes =
            new ArrayList<>(settings.getExceptionExcludes());
        excludes.add(MissingMessageIdException.class);
        settings.setExceptionExcludes(excludes);
      };
    }
  }

  /** Makes sure an auto-proxy creator exists, so idempotent listener methods are advised. */
  static class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {

    @Override
    public void registerBeanDefinitions(
        AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
      AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
    }
  }
}
