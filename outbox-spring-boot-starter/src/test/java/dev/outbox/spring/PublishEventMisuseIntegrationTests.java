package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.OutboxWriter;
import dev.outbox.PublishEvent;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code @PublishEvent} used the wrong way, and the outbox given an ambiguous DataSource: each
 * fails with an error that says what to do, or (self-invocation, a limit of Spring's proxies)
 * writes nothing, as docs/faq.md says.
 */
class PublishEventMisuseIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("misuse");

  static {
    TestPostgres.get().execute("CREATE TABLE " + SCHEMA + ".purchase (id text PRIMARY KEY)");
  }

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  private final DataSource dataSource = TestPostgres.get().dataSource();

  private final ApplicationContextRunner runner = runnerOn(dataSource, dataSource);

  /**
   * The service over {@code application}, the application's DataSource (the outbox's), with a
   * transaction manager of {@code managed}.
   */
  private static ApplicationContextRunner runnerOn(DataSource application, DataSource managed) {
    return runnerWith(application, () -> new DataSourceTransactionManager(managed));
  }

  private static ApplicationContextRunner runnerWith(
      DataSource application, Supplier<PlatformTransactionManager> manager) {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean(DataSource.class, () -> application)
        .withBean(PlatformTransactionManager.class, manager)
        .withBean(JdbcTemplate.class, () -> new JdbcTemplate(application))
        .withBean(Purchases.class);
  }

  /** A service as a user might write it, with the mistakes under test. */
  static class Purchases {
    private final JdbcTemplate jdbc;

    Purchases(JdbcTemplate jdbc) {
      this.jdbc = jdbc;
    }

    @PublishEvent(destination = "purchases")
    public void voidMethod(String id) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", id);
    }

    @PublishEvent(destination = "purchases", key = "#result.nope()")
    public String badKeyExpression(String id) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", id);
      return id;
    }

    public String callsItself(String id) {
      return annotated(id); // self-invocation: not through the proxy
    }

    @PublishEvent(destination = "purchases", key = "#result")
    public String annotated(String id) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", id);
      return id;
    }

    /** The key names an argument that does not exist (a typo): it evaluates to null. */
    @PublishEvent(destination = "purchases", key = "#ordrId")
    public String keyNamedWrong(String orderId) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", orderId);
      return orderId;
    }

    @PublishEvent(destination = "purchases", key = "#result.join()")
    public CompletableFuture<String> future(String id) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", id);
      return CompletableFuture.completedFuture(id);
    }

    @PublishEvent(destination = "purchases", key = "#p0")
    public Optional<Purchased> optional(String id, boolean present) {
      jdbc.update("INSERT INTO " + SCHEMA + ".purchase VALUES (?)", id);
      return present ? Optional.of(new Purchased(id)) : Optional.empty();
    }
  }

  record Purchased(String id) {}

  private static long purchases(String id) {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + SCHEMA + ".purchase WHERE id = '" + id + "'");
  }

  private String eventTypes(String key) {
    return new JdbcTemplate(dataSource)
        .queryForObject(
            "SELECT string_agg(event_type, ',') FROM "
                + SCHEMA
                + ".outbox_event WHERE event_key = ?",
            String.class,
            key);
  }

  private static long events(String key) {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM " + SCHEMA + ".outbox_event WHERE event_key = '" + key + "'");
  }

  /**
   * Calls the service with {@code id} and expects an {@link OutboxException} whose message holds
   * every part; the method's write rolled back or never ran, and no event was written.
   */
  private void failsWritingNothing(String id, Consumer<Purchases> call, String... message) {
    failsWritingNothing(runner, id, call, message);
  }

  private void failsWritingNothing(
      ApplicationContextRunner runner, String id, Consumer<Purchases> call, String... message) {
    runner.run(
        context -> {
          assertThatThrownBy(() -> call.accept(context.getBean(Purchases.class)))
              .isInstanceOf(OutboxException.class)
              .hasMessageContainingAll(message);
          assertThat(purchases(id)).as("the method's write").isZero();
          assertThat(events(id)).isZero();
        });
  }

  @Test
  void aVoidMethodFailsBeforeItRunsSayingWhatToDo() {
    failsWritingNothing(
        "void-1",
        purchases -> purchases.voidMethod("void-1"),
        "has no event to publish: the method returns void",
        "voidMethod");
  }

  @Test
  void aKeyExpressionThatCannotBeEvaluatedRollsTheMethodBackNamingTheExpression() {
    failsWritingNothing(
        "spel-1",
        purchases -> purchases.badKeyExpression("spel-1"),
        "Cannot evaluate '#result.nope()' of @PublishEvent on",
        "badKeyExpression");
  }

  @Test
  void aKeyThatIsNullFailsNamingTheExpressionAndRollsTheMethodBack() {
    failsWritingNothing(
        "null-key-1",
        purchases -> purchases.keyNamedWrong("null-key-1"),
        "The key '#ordrId' of @PublishEvent on",
        "is null for an event of type java.lang.String",
        "-parameters");
  }

  @Test
  void aMethodReturningAFutureFailsBeforeItRuns() {
    failsWritingNothing(
        "future-1",
        purchases -> purchases.future("future-1"),
        "returns a CompletableFuture",
        "nothing was run or written");
  }

  @Test
  void anOptionalResultPublishesItsValueAndAnEmptyOneNothing() {
    runner.run(
        context -> {
          Purchases purchases = context.getBean(Purchases.class);
          purchases.optional("optional-1", true);
          assertThat(eventTypes("optional-1")).as("the value's type").isEqualTo("Purchased");

          purchases.optional("optional-2", false);
          assertThat(purchases("optional-2")).isOne();
          assertThat(events("optional-2")).as("an empty Optional writes nothing").isZero();
        });
  }

  /**
   * A transaction on another data source is not the business transaction: the method starts one on
   * the outbox's, and its write and its event commit together (the other one rolls back).
   */
  @Test
  void aTransactionOnAnotherDataSourceDoesNotCountTheMethodStartsItsOwn() {
    DataSource other = TestPostgres.get().dataSource();
    runner.run(
        context -> {
          Purchases purchases = context.getBean(Purchases.class);
          new TransactionTemplate(new DataSourceTransactionManager(other))
              .executeWithoutResult(
                  status -> {
                    purchases.annotated("other-tx-1");
                    status.setRollbackOnly();
                  });
          assertThat(purchases("other-tx-1")).isOne();
          assertThat(events("other-tx-1")).isOne();
        });
  }

  @Test
  void aTransactionManagerOfAnotherDataSourceFailsBeforeTheMethodRuns() {
    failsWritingNothing(
        runnerOn(dataSource, TestPostgres.get().dataSource()),
        "wrong-tm-1",
        purchases -> purchases.annotated("wrong-tm-1"),
        "which does not manage the outbox's DataSource",
        "nothing was run or written");
  }

  /**
   * Connections out of auto-commit from the start (as a pool configured with auto-commit off hands
   * them out), so that nothing commits as a side effect of Spring restoring auto-commit.
   */
  private static DataSource autoCommitOff(DataSource target) {
    return new DelegatingDataSource(target) {
      @Override
      public Connection getConnection() throws SQLException {
        Connection connection = super.getConnection();
        connection.setAutoCommit(false);
        return connection;
      }
    };
  }

  /**
   * A {@code @PublishEvent} method called after its caller's transaction committed (an after-commit
   * listener, in its after-completion callback) runs in a new transaction: its write and its event
   * commit. Joining the completed transaction, both vanished without an error.
   */
  @Test
  void aMethodCalledAfterItsCallersTransactionCommittedRunsInANewOne() {
    DataSource pooled = autoCommitOff(dataSource);
    runnerOn(pooled, pooled)
        .run(
            context -> {
              Purchases purchases = context.getBean(Purchases.class);
              afterCompletionOfATransaction(context, () -> purchases.annotated("after-commit-1"));
              assertThat(purchases("after-commit-1")).isOne();
              assertThat(events("after-commit-1")).isOne();
            });
  }

  /**
   * Runs {@code callback} where an after-commit listener runs: a transaction's after-completion.
   */
  private static void afterCompletionOfATransaction(ApplicationContext context, Runnable callback) {
    new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
        .executeWithoutResult(
            status ->
                TransactionSynchronizationManager.registerSynchronization(
                    new TransactionSynchronization() {
                      @Override
                      public void afterCompletion(int completion) {
                        callback.run();
                      }
                    }));
  }

  /** The programmatic API called there fails instead of writing into the completed transaction. */
  @Test
  void publishingAfterTheTransactionCompletedFailsSayingWhatToDo() {
    runner.run(
        context -> {
          Outbox outbox = context.getBean(Outbox.class);
          AtomicReference<Throwable> failure = new AtomicReference<>();
          afterCompletionOfATransaction(
              context,
              () -> {
                try {
                  outbox.publish("purchases", "after-commit-2", "{}");
                } catch (RuntimeException ex) {
                  failure.set(ex);
                }
              });
          assertThat(failure.get())
              .isInstanceOf(OutboxException.class)
              .hasMessageContaining("The transaction has already completed")
              .hasMessageContaining("REQUIRES_NEW");
          assertThat(events("after-commit-2")).isZero();
        });
  }

  /**
   * A method that joined its caller's transaction wrote its row, then could not write its event;
   * the caller catches the exception and goes on. The commit fails and the row rolls back: the
   * method's writes never commit without their event.
   */
  @Test
  void aCallerThatCatchesTheFailureOfAJoinedMethodCannotCommitItsWrites() {
    runner.run(
        context -> {
          Purchases purchases = context.getBean(Purchases.class);
          TransactionTemplate transaction =
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
          assertThatThrownBy(
                  () ->
                      transaction.executeWithoutResult(
                          status ->
                              assertThatThrownBy(() -> purchases.badKeyExpression("caught-1"))
                                  .isInstanceOf(OutboxException.class)))
              .isInstanceOf(OutboxException.class)
              .hasMessageContaining("Rolled back: @PublishEvent on")
              .hasMessageContaining("badKeyExpression")
              .hasMessageContaining("Cannot evaluate '#result.nope()'");
          assertThat(purchases("caught-1")).as("the joined method's write rolled back").isZero();
        });
  }

  /**
   * A method that joined a transaction, failed to write its event inside a {@code NESTED} scope (a
   * savepoint) and was rolled back to it: its writes are gone, so the outer transaction's own work
   * commits.
   */
  @Test
  void aFailureRolledBackToASavepointDoesNotFailTheOuterCommit() {
    runner.run(
        context -> {
          Purchases purchases = context.getBean(Purchases.class);
          PlatformTransactionManager manager = context.getBean(PlatformTransactionManager.class);
          TransactionTemplate nested = new TransactionTemplate(manager);
          nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
          new TransactionTemplate(manager)
              .executeWithoutResult(
                  status -> {
                    assertThatThrownBy(
                            () ->
                                nested.executeWithoutResult(
                                    savepoint -> purchases.badKeyExpression("nested-1")))
                        .isInstanceOf(OutboxException.class);
                    purchases.annotated("outer-1");
                  });
          assertThat(purchases("nested-1")).as("rolled back to the savepoint").isZero();
          assertThat(purchases("outer-1")).isOne();
          assertThat(events("outer-1")).isOne();
        });
  }

  /**
   * The application defines the outbox for a data source that is not the primary one, with that
   * data source's transaction manager: the method runs in that manager's transactions, joined or
   * new.
   */
  @Test
  void anOutboxDefinedForAnotherDataSourceRunsInItsTransactions() {
    DataSource primary = TestPostgres.get().dataSource();
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean("applicationDataSource", DataSource.class, () -> primary, d -> d.setPrimary(true))
        .withBean("ordersDataSource", DataSource.class, () -> dataSource)
        .withBean(
            PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
        .withUserConfiguration(OrdersOutbox.class)
        .withBean(JdbcTemplate.class, () -> new JdbcTemplate(dataSource))
        .withBean(Purchases.class)
        .run(
            context -> {
              Purchases purchases = context.getBean(Purchases.class);
              purchases.annotated("orders-new-1");
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(status -> purchases.annotated("orders-joined-1"));
              assertThat(events("orders-new-1")).isOne();
              assertThat(purchases("orders-joined-1")).isOne();
              assertThat(events("orders-joined-1")).isOne();
            });
  }

  /**
   * The publisher on the orders data source (one database here: the repository on the primary one
   * reads the same table; OutboxOnAnotherDatabaseIntegrationTests runs docs/faq.md's whole recipe
   * with two).
   */
  @Configuration(proxyBeanMethods = false)
  static class OrdersOutbox {
    @Bean
    Outbox ordersOutbox(OutboxWriter writer, @Qualifier("ordersDataSource") DataSource orders) {
      return new SpringOutbox(orders, writer, slots -> {});
    }
  }

  @Test
  void aTransactionManagerWithoutSynchronizationFailsBeforeTheMethodRunsSayingSo() {
    failsWritingNothing(
        runnerWith(
            dataSource,
            () -> {
              DataSourceTransactionManager manager = new DataSourceTransactionManager(dataSource);
              manager.setTransactionSynchronization(
                  AbstractPlatformTransactionManager.SYNCHRONIZATION_NEVER);
              return manager;
            }),
        "never-sync-1",
        purchases -> purchases.annotated("never-sync-1"),
        "runs without transaction synchronization (SYNCHRONIZATION_NEVER)");
  }

  @Test
  void selfInvocationBypassesTheProxyAndWritesNoEvent() {
    runner.run(
        context -> {
          Purchases purchases = context.getBean(Purchases.class);
          purchases.callsItself("self-1");
          assertThat(purchases("self-1")).isOne();
          assertThat(events("self-1")).as("documented limit of proxies (docs/faq.md)").isZero();

          purchases.annotated("proxied-1");
          assertThat(events("proxied-1")).as("through the proxy").isOne();
        });
  }

  @Test
  void twoDataSourcesWithoutAPrimaryFailStartupNamingBoth() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean("ordersDataSource", DataSource.class, TestPostgres.get()::dataSource)
        .withBean("reportingDataSource", DataSource.class, TestPostgres.get()::dataSource)
        .run(
            context ->
                assertThat(context.getStartupFailure())
                    .hasStackTraceContaining("expected single matching bean but found 2")
                    .hasStackTraceContaining("ordersDataSource")
                    .hasStackTraceContaining("reportingDataSource"));
  }

  @Test
  void withTwoDataSourcesTheOutboxUsesThePrimaryOne() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + SCHEMA)
        .withBean(
            "ordersDataSource",
            DataSource.class,
            () -> dataSource,
            definition -> definition.setPrimary(true))
        .withBean("reportingDataSource", DataSource.class, TestPostgres.get()::dataSource)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(dev.outbox.store.OutboxRepository.class)).isNotNull();
            });
  }
}
