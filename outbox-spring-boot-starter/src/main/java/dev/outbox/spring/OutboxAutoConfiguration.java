package dev.outbox.spring;

import dev.outbox.HeaderCapture;
import dev.outbox.Outbox;
import dev.outbox.OutboxWriter;
import dev.outbox.PayloadSerializer;
import dev.outbox.relay.InvalidRelaySettingException;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.relay.RelayListener;
import dev.outbox.relay.RelayTiming;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.PostgresWakeups;
import dev.outbox.store.StoreOptions;
import dev.outbox.store.TableName;
import dev.outbox.transport.OutboxTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.actuate.endpoint.EndpointAccessResolver;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Lazy;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of the outbox on the application's {@link DataSource}. Every bean backs off
 * when the application defines its own; {@link OutboxCustomizer} beans adjust the relay.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
      "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
      "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration",
      "org.springframework.boot.micrometer.tracing.brave.autoconfigure.BraveAutoConfiguration",
      "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.OpenTelemetryTracingAutoConfiguration",
      "dev.outbox.kafka.autoconfigure.OutboxKafkaAutoConfiguration",
      "dev.outbox.rabbit.OutboxRabbitAutoConfiguration"
    })
@ConditionalOnClass(DataSource.class)
@ConditionalOnBean(DataSource.class)
@ConditionalOnProperty(prefix = "outbox", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
@Import(OutboxAutoConfiguration.AutoProxyRegistrar.class)
public class OutboxAutoConfiguration {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(OutboxAutoConfiguration.class);

  @Bean
  @ConditionalOnMissingBean
  TableName outboxTableName(OutboxProperties properties) {
    return TableName.of(properties.getTable().getSchema(), properties.getTable().getName());
  }

  @Bean
  @ConditionalOnMissingBean(OutboxRepository.class)
  PostgresOutboxRepository outboxRepository(
      DataSource dataSource, TableName outboxTableName, OutboxProperties properties) {
    StoreOptions options =
        StoreOptions.defaults()
            .withDeadEventBlocksKey(properties.getRelay().isDeadEventBlocksKey())
            .withDeleteAfterWrite(properties.getCdc().isEnabled());
    return new PostgresOutboxRepository(dataSource, outboxTableName, options);
  }

  /** Runs after the application's own Flyway/Liquibase/SQL initialization of the same database. */
  @Bean
  @ConditionalOnMissingBean
  @DependsOnDatabaseInitialization
  OutboxSchemaInitializer outboxSchemaInitializer(
      ObjectProvider<Outbox> outbox,
      ObjectProvider<DataSource> dataSource,
      TableName outboxTableName,
      OutboxRepository outboxRepository,
      OutboxProperties properties) {
    return new OutboxSchemaInitializer(
        outboxDataSource(outbox, dataSource),
        outboxTableName,
        outboxRepository,
        properties.getMigration().isEnabled(),
        databaseTimeout(properties));
  }

  /**
   * The relay's database timeout as its properties set it (a customizer may change the relay's):
   * how long the wake-ups' connections and each startup check of the table wait for the database.
   * Public for the inbox's check of its table ({@code outbox-inbox}), which waits as long; not
   * meant for applications.
   */
  public static Duration databaseTimeout(OutboxProperties properties) {
    Duration leaseTimeout = properties.getRelay().getLeaseTimeout();
    return RelayTiming.databaseTimeout(
        leaseTimeout != null
            ? leaseTimeout
            : RelayTiming.defaultLeaseTimeout(properties.getRelay().getPollInterval()));
  }

  /**
   * The DataSource the outbox writes to: a {@link SpringOutbox}'s own (the application may define
   * the outbox for a data source that is not the primary one, docs/faq.md), else the unique or
   * primary one. The table is created, and the wake-ups sent and heard, in that database.
   */
  static DataSource outboxDataSource(
      ObjectProvider<Outbox> outbox, ObjectProvider<DataSource> dataSource) {
    return outbox.getIfUnique() instanceof SpringOutbox spring
        ? spring.dataSource()
        : dataSource.getObject();
  }

  @Bean
  @ConditionalOnMissingBean
  PayloadSerializer outboxPayloadSerializer(ObjectProvider<ObjectMapper> mappers) {
    ObjectMapper mapper = mappers.getIfUnique(() -> JsonMapper.builder().build());
    return new JacksonPayloadSerializer(mapper);
  }

  @Bean
  @ConditionalOnMissingBean
  HeaderCapture outboxHeaderCapture() {
    return HeaderCapture.none();
  }

  @Bean
  @ConditionalOnMissingBean
  OutboxWriter outboxWriter(
      OutboxRepository outboxRepository,
      PayloadSerializer outboxPayloadSerializer,
      HeaderCapture outboxHeaderCapture,
      ObjectProvider<OutboxTransport> transport,
      OutboxProperties properties) {
    DataSize configured = properties.getMaxPayloadSize();
    OutboxTransport local = transport.getIfUnique();
    int maxPayloadBytes;
    String maxPayloadDescription;
    if (configured != null) {
      maxPayloadBytes = (int) Math.min(Integer.MAX_VALUE, configured.toBytes());
      maxPayloadDescription = "outbox.max-payload-size";
    } else if (local != null) {
      maxPayloadBytes = local.maxPayloadBytes();
      maxPayloadDescription =
          "the largest message the transport accepts; outbox.max-payload-size is not set";
    } else {
      // No transport, or several: none whose limit to take
      maxPayloadBytes = OutboxDefaults.MAX_PAYLOAD_BYTES;
      maxPayloadDescription =
          "the default maximum payload size; outbox.max-payload-size is not set";
    }
    return new OutboxWriter(
        outboxRepository,
        outboxPayloadSerializer,
        outboxHeaderCapture,
        Clock.systemUTC(),
        maxPayloadBytes,
        maxPayloadDescription);
  }

  @Bean
  @ConditionalOnMissingBean(Outbox.class)
  SpringOutbox outbox(
      DataSource dataSource, OutboxWriter outboxWriter, RelayWakeUp outboxRelayWakeUp) {
    return new SpringOutbox(dataSource, outboxWriter, outboxRelayWakeUp::wake);
  }

  /**
   * Wakes the relays after a commit that wrote events (the {@link SpringOutbox}) and after a replay
   * of dead events (the endpoint): the local relay for the slots it holds, the relays of other
   * instances for the rest (or all, without a local relay). Both beans are looked up once, not on
   * every commit (a lookup costs more than the wake-up).
   */
  @Bean
  @ConditionalOnMissingBean
  RelayWakeUp outboxRelayWakeUp(
      ObjectProvider<OutboxRelay> relay, ObjectProvider<PostgresWakeups> wakeups) {
    return new RelayWakeUp(
        SingletonSupplier.of(relay::getIfAvailable), SingletonSupplier.of(wakeups::getIfAvailable));
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "outbox.relay", name = "notify", matchIfMissing = true)
  PostgresWakeups outboxWakeups(
      ObjectProvider<Outbox> outbox,
      ObjectProvider<DataSource> dataSource,
      TableName outboxTableName,
      ObjectProvider<OutboxRelay> relay,
      OutboxProperties properties) {
    return new PostgresWakeups(
        outboxDataSource(outbox, dataSource),
        outboxTableName,
        slots -> relay.ifAvailable(local -> local.wakeUp(slots)),
        databaseTimeout(properties));
  }

  @Bean
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  static PublishEventAdvisor publishEventAdvisor(
      ObjectProvider<Outbox> outbox,
      ObjectProvider<DataSource> dataSource,
      ObjectProvider<PlatformTransactionManager> transactionManager,
      Environment environment) {
    return new PublishEventAdvisor(
        new LazyPublishEventInterceptor(
            outbox, dataSource, transactionManager, environment::resolveRequiredPlaceholders));
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(OutboxTransport.class)
  @ConditionalOnProperty(prefix = "outbox.relay", name = "enabled", matchIfMissing = true)
  @ConditionalOnProperty(
      prefix = "outbox.cdc",
      name = "enabled",
      havingValue = "false",
      matchIfMissing = true)
  OutboxRelay outboxRelay(
      OutboxRepository outboxRepository,
      OutboxTransport outboxTransport,
      OutboxProperties properties,
      ObjectProvider<RelayListener> listeners,
      ObjectProvider<OutboxCustomizer> customizers,
      ObjectProvider<PostgresWakeups> wakeups,
      ObjectProvider<TransportDecorator> decorators) {
    OutboxProperties.Relay relay = properties.getRelay();
    List<RelayListener> all = listeners.orderedStream().toList();
    OutboxTransport transport = outboxTransport;
    for (TransportDecorator decorator : decorators.orderedStream().toList()) {
      transport = decorator.apply(transport);
    }
    OutboxRelay.Builder builder =
        OutboxRelay.builder()
            .repository(outboxRepository)
            .transport(transport)
            .retryPolicy(properties.getRetry().toPolicy())
            .batchSize(relay.getBatchSize())
            .workers(relay.getWorkers())
            .pollInterval(relay.getPollInterval())
            .publishTimeout(relay.getPublishTimeout())
            .leaseTimeout(relay.getLeaseTimeout())
            .transientFailureLogLevel(relay.getTransientFailureLogLevel())
            .maxErrorBackoff(relay.getMaxErrorBackoff())
            .listener(CompositeRelayListener.of(all))
            .onBacklog(() -> wakeups.ifAvailable(PostgresWakeups::signal));
    List<OutboxCustomizer> customizing = customizers.orderedStream().toList();
    customizing.forEach(customizer -> customizer.customize(builder));
    log.info("Outbox relay publishes through {}", outboxTransport.getClass().getName());
    try {
      return builder.build();
    } catch (InvalidRelaySettingException ex) {
      throw relay.invalid(ex, !customizing.isEmpty());
    }
  }

  @Bean
  OutboxRelayLifecycle outboxRelayLifecycle(
      ObjectProvider<OutboxRelay> outboxRelay,
      ObjectProvider<PostgresWakeups> wakeups,
      OutboxRepository outboxRepository,
      OutboxSchemaInitializer outboxSchemaInitializer,
      OutboxProperties properties) {
    return new OutboxRelayLifecycle(
        outboxRelay.getIfAvailable(),
        wakeups.getIfAvailable(),
        outboxRepository,
        outboxSchemaInitializer,
        properties.getRelay().getShutdownTimeout());
  }

  /** Deletes dead events past {@code outbox.dead.retention}, when it is set. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "outbox.dead", name = "retention")
  OutboxDeadEventRetention outboxDeadEventRetention(
      OutboxRepository outboxRepository, OutboxProperties properties) {
    return new OutboxDeadEventRetention(outboxRepository, properties.getDead());
  }

  /** Trace context captured at write time, when Micrometer Tracing is set up. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({Tracer.class, Propagator.class})
  static class TracingConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean({Tracer.class, Propagator.class})
    HeaderCapture outboxTracingHeaderCapture(Tracer tracer, Propagator propagator) {
      return new TracingHeaderCapture(tracer, propagator);
    }

    /** An observation (a producer span) around each relay send of an event written in a trace. */
    @Bean
    @ConditionalOnBean({ObservationRegistry.class, Tracer.class, Propagator.class})
    TransportDecorator outboxTransportObservation(
        ObservationRegistry registry, Tracer tracer, Propagator propagator) {
      return transport -> new ObservedOutboxTransport(transport, registry, tracer, propagator);
    }
  }

  /** Wraps the transport the relay publishes through (the relay's send observation). */
  interface TransportDecorator extends UnaryOperator<OutboxTransport> {}

  /** Micrometer metrics. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  static class MetricsConfiguration {

    // Not lazy: its constructor registers the backlog gauges, and without a relay no bean asks for
    // it (spring.main.lazy-initialization=true would leave the gauges out)
    @Bean
    @Lazy(false)
    @ConditionalOnBean(MeterRegistry.class)
    MicrometerRelayListener outboxMetrics(MeterRegistry registry, OutboxRepository repository) {
      return new MicrometerRelayListener(registry, repository, Clock.systemUTC());
    }
  }

  /** Health indicator, unless {@code management.health.outbox.enabled=false}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(
      name = {
        "org.springframework.boot.health.contributor.HealthIndicator",
        "org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator"
      })
  static class HealthConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "outboxHealthIndicator")
    @ConditionalOnEnabledHealthIndicator("outbox")
    OutboxHealthIndicator outboxHealthIndicator(
        OutboxRepository repository,
        ObjectProvider<OutboxRelay> relay,
        OutboxProperties properties) {
      return new OutboxHealthIndicator(
          repository, relay.getIfAvailable(), properties.getHealth(), Clock.systemUTC());
    }
  }

  /** The Actuator endpoint. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  static class EndpointConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxEndpoint outboxEndpoint(
        OutboxRepository repository,
        ObjectProvider<OutboxRelay> relay,
        ObjectProvider<EndpointAccessResolver> access,
        ObjectProvider<OutboxRelayControl> control,
        RelayWakeUp outboxRelayWakeUp) {
      OutboxEndpoint endpoint =
          new OutboxEndpoint(repository, relay.getIfAvailable(), access.getIfAvailable());
      endpoint.setControl(control.getIfAvailable());
      // A replayed event is published by whichever instance holds its slot: wake that one too
      endpoint.setWakeUp(outboxRelayWakeUp::wake);
      return endpoint;
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(OutboxEndpoint.class)
    OutboxEndpointWebExtension outboxEndpointWebExtension(OutboxEndpoint outboxEndpoint) {
      return new OutboxEndpointWebExtension(outboxEndpoint);
    }

    /** Over HTTP: refuses what an operation of the endpoint does not take, with the reason. */
    @Bean
    @ConditionalOnBean(OutboxEndpoint.class)
    static EndpointRefusals outboxEndpointRefusals() {
      return new EndpointRefusals();
    }
  }

  /** Makes sure an auto-proxy creator exists, so {@code @PublishEvent} methods are advised. */
  static class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {

    @Override
    public void registerBeanDefinitions(
        AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
      AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
    }
  }
}
