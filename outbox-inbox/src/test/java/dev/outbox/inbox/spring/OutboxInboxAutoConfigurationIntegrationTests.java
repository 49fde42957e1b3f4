package dev.outbox.inbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import dev.outbox.inbox.IdempotentListener;
import dev.outbox.inbox.Inbox;
import dev.outbox.spring.TableMigrations;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.transaction.KafkaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/** The auto-configuration with the real PostgreSQL, each context in a schema of its own. */
class OutboxInboxAutoConfigurationIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("inbox_auto");

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxInboxAutoConfiguration.class))
          .withUserConfiguration(Database.class);

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  @Configuration(proxyBeanMethods = false)
  static class Database {

    @Bean
    DataSource dataSource() {
      return TestPostgres.get().dataSource();
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new DataSourceTransactionManager(dataSource);
    }
  }

  @Test
  void createsTheConfiguredTableWithItsOwnHistoryTable() {
    runner
        .withPropertyValues(
            "outbox.inbox.table.schema=" + SCHEMA, "outbox.inbox.table.name=orders_inbox")
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(Inbox.class);
              assertThat(context).hasSingleBean(InboxCleaner.class);
              assertThat(
                      TestPostgres.get()
                          .queryLong(
                              "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"
                                  + SCHEMA
                                  + "' AND table_name IN ('orders_inbox',"
                                  + " 'orders_inbox_schema_history')"))
                  .isEqualTo(2);
            });
  }

  @Test
  void cleanerRunsEveryIntervalAndDeletesOnlyExpiredRows() {
    runner
        .withPropertyValues(
            "outbox.inbox.table.schema=" + SCHEMA,
            "outbox.inbox.table.name=scheduled_inbox",
            "outbox.inbox.retention=1h",
            "outbox.inbox.cleanup-interval=50ms")
        .run(
            context -> {
              String table = SCHEMA + ".scheduled_inbox";
              TestPostgres.get()
                  .execute(
                      "INSERT INTO "
                          + table
                          + " (consumer, message_id, handled_at) VALUES"
                          + " ('c', 'expired', now() - interval '2 hours'),"
                          + " ('c', 'kept', now() - interval '30 minutes')");

              org.awaitility.Awaitility.await()
                  .atMost(java.time.Duration.ofSeconds(30))
                  .until(
                      () ->
                          TestPostgres.get()
                                  .queryLong(
                                      "SELECT count(*) FROM "
                                          + table
                                          + " WHERE message_id = 'expired'")
                              == 0);
              assertThat(
                      TestPostgres.get()
                          .queryLong(
                              "SELECT count(*) FROM " + table + " WHERE message_id = 'kept'"))
                  .isOne();
            });
  }

  /**
   * Instances of a consumer starting at once migrate the inbox one after the other, as the outbox
   * does (the same lock; see {@code OutboxSchemaIntegrationTests}): one that finds another's
   * migration of the table under way waits for it, says so, and starts when it ends. The test plays
   * the other instance by holding the lock.
   */
  @Test
  void anInstanceWaitsUntilAnotherInstancesMigrationOfTheInboxEndsAndSaysSo() throws Exception {
    String name = SCHEMA + ".waiting_inbox";
    CompletableFuture<Throwable> start;
    try (LogCapture log = LogCapture.of(TableMigrations.class);
        Connection otherInstance =
            TestPostgres.get()
                .openTransactionThatRan(
                    "SELECT pg_advisory_xact_lock("
                        + "dev.outbox:migrations".hashCode()
                        + ", hashtext('waiting_inbox'))")) {
      start =
          CompletableFuture.supplyAsync(
              () -> {
                AtomicReference<Throwable> failure = new AtomicReference<>();
                runner
                    .withPropertyValues(
                        "outbox.inbox.table.schema=" + SCHEMA,
                        "outbox.inbox.table.name=waiting_inbox")
                    .run(context -> failure.set(context.getStartupFailure()));
                return failure.get();
              },
              TestThreads.OWN_THREAD);
      TestPostgres.get()
          .awaitWaitingForAdvisoryLock(
              start, "dev.outbox:migrations".hashCode(), "waiting_inbox", Duration.ofMinutes(1));

      assertThat(inboxTables("waiting_inbox")).as("created while the other's run lasts").isZero();
      assertThat(log.lines("Waiting"))
          .containsExactly("INFO Waiting for another instance's migration of " + name);
    }
    assertThat(start.get(1, TimeUnit.MINUTES)).as("startup failure").isNull();
    assertThat(inboxTables("waiting_inbox")).isEqualTo(2);
  }

  /** How many of the table {@code name} and its history table exist in this test's schema. */
  private static long inboxTables(String name) {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"
                + SCHEMA
                + "' AND table_name IN ('"
                + name
                + "', '"
                + name
                + "_schema_history')");
  }

  @Test
  void invalidTableNameFailsStartupNamingTheProperty() {
    runner
        .withPropertyValues("outbox.inbox.table.name=Inbox-Table")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "Invalid inbox table name 'Inbox-Table': use a lower-case SQL identifier"
                            + " matching [a-z_][a-z0-9_]{0,62} (set outbox.inbox.table.name)"));
  }

  @Test
  void missingTableWithMigrationsOffFailsStartupSayingWhatToDo() {
    runner
        .withPropertyValues(
            "outbox.inbox.table.schema=" + SCHEMA,
            "outbox.inbox.table.name=absent_inbox",
            "outbox.inbox.migration.enabled=false")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "The inbox table " + SCHEMA + ".absent_inbox is missing or incomplete")
                    .hasStackTraceContaining(
                        "Create it with the DDL of dev.outbox.inbox.InboxSchema (see"
                            + " docs/consumers.md), or set outbox.inbox.migration.enabled=true"));
  }

  @Test
  void invalidRetentionFailsStartupNamingTheProperty() {
    runner
        .withPropertyValues("outbox.inbox.retention=0s")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("outbox.inbox.retention must be positive; got PT0S"));
  }

  @Test
  void disabledInboxRegistersNothing() {
    runner
        .withPropertyValues("outbox.inbox.enabled=false")
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Inbox.class));
  }

  @Test
  void applicationInboxReplacesTheAutoConfiguredOne() {
    Inbox own = (messageId, consumer, handler) -> true;
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withBean(Inbox.class, () -> own)
        .run(context -> assertThat(context.getBean(Inbox.class)).isSameAs(own));
  }

  /**
   * An application's own {@code Inbox} bean replaces the auto-configured one for the annotation
   * too: listener methods run through it.
   */
  @Test
  void idempotentListenersRunThroughTheApplicationsOwnInbox() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withUserConfiguration(OwnInbox.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              HeaderListener listener = context.getBean(HeaderListener.class);
              String id = java.util.UUID.randomUUID().toString();

              listener.on("first delivery", id);
              listener.on("second delivery", id);

              assertThat(listener.handled()).containsExactly("first delivery");
              assertThat(context.getBean(CountingInbox.class).messageIds).containsExactly(id, id);
            });
  }

  /**
   * Two listener classes inheriting one annotated method get the same default consumer name (the
   * declaring class's): each would skip what the other handled. Startup fails, naming both.
   */
  @Test
  void subclassesInheritingOneListenerMethodUnderItsDefaultNameFailStartup() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withBean(FirstInheritingListener.class)
        .withBean(SecondInheritingListener.class)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .isInstanceOf(OutboxException.class)
                    .hasMessageContaining(
                        " runs in beans of " + FirstInheritingListener.class.getName())
                    .hasMessageContaining(
                        " and of "
                            + SecondInheritingListener.class.getName()
                            + " under one default consumer name, InheritedListener.on: each would"
                            + " skip the messages the other handled. Give each class its own"
                            + " name: override the method in each, annotated"
                            + " @IdempotentListener(consumer = \"…\")."));
  }

  /** The way out the failure names: each subclass overrides the method with a name of its own. */
  @Test
  void subclassesOverridingTheListenerMethodWithTheirOwnNamesEachHandleAMessageOnce() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withBean(FirstNamedListener.class)
        .withBean(SecondNamedListener.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              InheritedListener first = context.getBean(FirstNamedListener.class);
              InheritedListener second = context.getBean(SecondNamedListener.class);
              String id = java.util.UUID.randomUUID().toString();

              first.on("first", id);
              second.on("second", id);
              first.on("first again", id);
              second.on("second again", id);

              assertThat(first.handled()).containsExactly("first");
              assertThat(second.handled()).containsExactly("second");
            });
  }

  /** A listener base class; its beans are proxies, so read them through methods. */
  public abstract static class InheritedListener {

    private final List<String> handled = new CopyOnWriteArrayList<>();

    @IdempotentListener
    public void on(
        String payload,
        @org.springframework.messaging.handler.annotation.Header("ce_id") String id) {
      handled.add(payload);
    }

    public List<String> handled() {
      return List.copyOf(handled);
    }
  }

  public static class FirstInheritingListener extends InheritedListener {}

  public static class SecondInheritingListener extends InheritedListener {}

  public static class FirstNamedListener extends InheritedListener {
    @Override
    @IdempotentListener(consumer = "first-named")
    public void on(
        String payload,
        @org.springframework.messaging.handler.annotation.Header("ce_id") String id) {
      super.on(payload, id);
    }
  }

  public static class SecondNamedListener extends InheritedListener {
    @Override
    @IdempotentListener(consumer = "second-named")
    public void on(
        String payload,
        @org.springframework.messaging.handler.annotation.Header("ce_id") String id) {
      super.on(payload, id);
    }
  }

  @Test
  void idempotentListenersWithTwoInboxBeansFailStartup() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withUserConfiguration(OwnInbox.class)
        .withBean("secondInbox", Inbox.class, () -> (messageId, consumer, handler) -> true)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .isInstanceOf(OutboxException.class)
                    .hasMessageStartingWith(
                        "@IdempotentListener methods need one Inbox bean to run through: "));
  }

  /** An application's inbox: the library's, counting the messages it is asked about. */
  static final class CountingInbox implements Inbox {

    final List<String> messageIds = new CopyOnWriteArrayList<>();
    private final Inbox delegate;

    CountingInbox(Inbox delegate) {
      this.delegate = delegate;
    }

    @Override
    public boolean handleOnce(String messageId, String consumer, Runnable handler) {
      messageIds.add(messageId);
      return delegate.handleOnce(messageId, consumer, handler);
    }
  }

  /** A listener method with the id in a header; its bean is a proxy, so read it through methods. */
  public static class HeaderListener {

    private final List<String> handled = new CopyOnWriteArrayList<>();

    public List<String> handled() {
      return List.copyOf(handled);
    }

    @IdempotentListener(consumer = "own-inbox")
    public void on(
        String payload,
        @org.springframework.messaging.handler.annotation.Header("ce_id") String id) {
      handled.add(payload);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnInbox {

    @Bean
    CountingInbox countingInbox(
        DataSource dataSource,
        dev.outbox.inbox.PostgresInboxStore inboxStore,
        InboxSchemaInitializer inboxSchemaInitializer,
        PlatformTransactionManager transactionManager) {
      return new CountingInbox(
          new SpringInbox(
              dataSource,
              inboxStore,
              new org.springframework.transaction.support.TransactionTemplate(transactionManager),
              dev.outbox.inbox.InboxListener.none(),
              inboxSchemaInitializer::initialize));
    }

    @Bean
    HeaderListener headerListener() {
      return new HeaderListener();
    }
  }

  @Test
  void withSeveralTransactionManagersTheOneOnTheInboxDataSourceIsUsed() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxInboxAutoConfiguration.class))
        .withUserConfiguration(Database.class)
        .withBean(
            "otherTransactionManager",
            PlatformTransactionManager.class,
            () -> new DataSourceTransactionManager(TestPostgres.get().dataSource()))
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .run(
            context -> {
              Inbox inbox = context.getBean(Inbox.class);
              String id = java.util.UUID.randomUUID().toString();
              assertThat(inbox.handleOnce(id, "c", () -> {})).isTrue();
              assertThat(inbox.handleOnce(id, "c", () -> {})).isFalse();
            });
  }

  /**
   * An application that defines only a {@code KafkaTransactionManager} (so Spring Boot backs off
   * from its JDBC one) has no transaction manager for the inbox's data source: startup fails naming
   * both, instead of the inbox recording messages outside any transaction.
   */
  @Test
  void withOnlyATransactionManagerOfAnotherResourceStartupFailsNamingItAndTheDataSource() {
    DataSource dataSource = TestPostgres.get().dataSource();
    DefaultKafkaProducerFactory<String, String> producers =
        new DefaultKafkaProducerFactory<>(Map.of());
    producers.setTransactionIdPrefix("inbox-test-");
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxInboxAutoConfiguration.class))
        .withBean(DataSource.class, () -> dataSource)
        .withBean(
            "kafkaTransactionManager",
            PlatformTransactionManager.class,
            () -> new KafkaTransactionManager<>(producers))
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .isInstanceOf(OutboxException.class)
                    .hasMessage(
                        "The inbox needs a transaction manager for its DataSource "
                            + dataSource
                            + ", but the application's transaction manager"
                            + " org.springframework.kafka.transaction.KafkaTransactionManager"
                            + " manages "
                            + producers
                            + ": the inbox record would be written outside its transactions."
                            + " Define a DataSourceTransactionManager or JpaTransactionManager for"
                            + " that DataSource (Spring Boot backs off from its own when the"
                            + " application defines any transaction manager)."));
  }

  @Test
  void withoutATransactionManagerTheInboxFailsOutsideATransaction() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxInboxAutoConfiguration.class))
        .withBean(DataSource.class, () -> TestPostgres.get().dataSource())
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .run(
            context ->
                assertThatThrownBy(
                        () -> context.getBean(Inbox.class).handleOnce("m-1", "c", () -> {}))
                    .isInstanceOf(OutboxException.class)
                    .hasMessage(
                        "The inbox needs a transaction on its DataSource to record message m-1,"
                            + " but none is active and no PlatformTransactionManager was chosen"
                            + " to start one (none exists, or several and none is @Primary or the"
                            + " only one on this DataSource)."));
  }

  @Test
  void failedHandlerInTheCallersTransactionMarksItRollbackOnlyEvenIfTheCallerCatches() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withUserConfiguration(TransactionalCaller.Config.class)
        .run(
            context -> {
              TransactionalCaller caller = context.getBean(TransactionalCaller.class);
              String id = java.util.UUID.randomUUID().toString();

              assertThatThrownBy(() -> caller.handleAndSwallowFailure(id))
                  .isInstanceOf(org.springframework.transaction.UnexpectedRollbackException.class);

              assertThat(
                      TestPostgres.get()
                          .queryLong(
                              "SELECT count(*) FROM "
                                  + SCHEMA
                                  + ".outbox_inbox WHERE message_id = '"
                                  + id
                                  + "'"))
                  .isZero();
              assertThat(context.getBean(Inbox.class).handleOnce(id, "c", () -> {})).isTrue();
            });
  }

  /** Calls the inbox from a {@code @Transactional} method and swallows the handler's failure. */
  public static class TransactionalCaller {

    private final Inbox inbox;

    public TransactionalCaller(Inbox inbox) {
      this.inbox = inbox;
    }

    @org.springframework.transaction.annotation.Transactional
    public void handleAndSwallowFailure(String id) {
      try {
        inbox.handleOnce(
            id,
            "c",
            () -> {
              throw new IllegalStateException("handler fails");
            });
      } catch (IllegalStateException expected) {
        // the caller carries on and commits
      }
    }

    @Configuration(proxyBeanMethods = false)
    @org.springframework.transaction.annotation.EnableTransactionManagement
    static class Config {
      @Bean
      TransactionalCaller transactionalCaller(Inbox inbox) {
        return new TransactionalCaller(inbox);
      }
    }
  }

  @Test
  void listenerMethodWithoutAnIdParameterFailsStartup() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withBean(PayloadOnlyListener.class)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageStartingWith("@IdempotentListener method ")
                    .hasMessageContaining("PayloadOnlyListener.on(java.lang.String)")
                    .hasMessageContaining("has no parameter carrying the message id"));
  }

  static class PayloadOnlyListener {
    @IdempotentListener
    public void on(String payload) {}
  }

  /**
   * A Kafka batch listener gets one {@code Message} for the whole batch, without the records' ids
   * among its headers: it would pass the id check, then fail on every batch. It is refused at
   * startup, whether {@code @KafkaListener} or its container factory makes it a batch listener.
   */
  @Test
  void kafkaBatchListenersFailStartup() {
    ConcurrentKafkaListenerContainerFactory<Object, Object> batchFactory =
        new ConcurrentKafkaListenerContainerFactory<>();
    batchFactory.setBatchListener(true);
    List<ApplicationContextRunner> batchListeners =
        List.of(
            runner.withBean(BatchByAnnotationListener.class),
            runner
                .withBean(
                    "kafkaListenerContainerFactory",
                    ConcurrentKafkaListenerContainerFactory.class,
                    () -> batchFactory)
                .withBean(BatchByFactoryListener.class));
    for (ApplicationContextRunner batchListener : batchListeners) {
      batchListener
          .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
          .run(
              context ->
                  assertThat(context)
                      .getFailure()
                      .isInstanceOf(OutboxException.class)
                      .hasMessageStartingWith("@IdempotentListener method ")
                      .hasMessageContaining("Listener.on(org.springframework.messaging.Message)")
                      .hasMessageContaining(
                          " is a batch listener: batch listeners are not supported, the inbox"
                              + " records one message id per call."));
    }
  }

  static class BatchByAnnotationListener {
    @org.springframework.kafka.annotation.KafkaListener(
        topics = "orders",
        batch = "${outbox.test.batch:true}")
    @IdempotentListener
    public void on(org.springframework.messaging.Message<?> batch) {}
  }

  static class BatchByFactoryListener {
    @org.springframework.kafka.annotation.KafkaListener(topics = "orders")
    @IdempotentListener
    public void on(org.springframework.messaging.Message<?> batch) {}
  }

  @Test
  void manuallyAcknowledgingRabbitListenerWithoutADeliveryTagFailsStartup() {
    runner
        .withPropertyValues("outbox.inbox.table.schema=" + SCHEMA)
        .withBean(ManualAckWithoutDeliveryTagListener.class)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .isInstanceOf(OutboxException.class)
                    .hasMessageStartingWith("@IdempotentListener method ")
                    .hasMessageContaining("ManualAckWithoutDeliveryTagListener.on(")
                    .hasMessageContaining(
                        "acknowledges manually (AcknowledgeMode.MANUAL) but has no parameter"
                            + " carrying the delivery tag"));
  }

  static class ManualAckWithoutDeliveryTagListener {
    @org.springframework.amqp.rabbit.annotation.RabbitListener(queues = "q", ackMode = "MANUAL")
    @IdempotentListener
    public void on(
        String payload,
        @org.springframework.messaging.handler.annotation.Header("amqp_messageId") String id,
        com.rabbitmq.client.Channel channel) {}
  }
}
