package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.OutboxException;
import dev.outbox.PublishEvent;
import dev.outbox.test.TestPostgres;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

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

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withPropertyValues("outbox.table.schema=" + SCHEMA)
          .withBean(DataSource.class, () -> dataSource)
          .withBean(
              PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
          .withBean(JdbcTemplate.class, () -> new JdbcTemplate(dataSource))
          .withBean(Purchases.class);

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
  }

  private static long purchases(String id) {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + SCHEMA + ".purchase WHERE id = '" + id + "'");
  }

  private static long events(String key) {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM " + SCHEMA + ".outbox_event WHERE event_key = '" + key + "'");
  }

  @Test
  void aVoidMethodFailsBeforeItRunsSayingWhatToDo() {
    runner.run(
        context -> {
          assertThatThrownBy(() -> context.getBean(Purchases.class).voidMethod("void-1"))
              .isInstanceOf(OutboxException.class)
              .hasMessageContaining("has no event to publish: the method returns void")
              .hasMessageContaining("voidMethod");
          assertThat(purchases("void-1")).isZero();
        });
  }

  @Test
  void aKeyExpressionThatCannotBeEvaluatedRollsTheMethodBackNamingTheExpression() {
    runner.run(
        context -> {
          assertThatThrownBy(() -> context.getBean(Purchases.class).badKeyExpression("spel-1"))
              .isInstanceOf(OutboxException.class)
              .hasMessageContaining("Cannot evaluate '#result.nope()' of @PublishEvent on")
              .hasMessageContaining("badKeyExpression");
          assertThat(purchases("spel-1")).as("the method's write rolled back").isZero();
          assertThat(events("spel-1")).isZero();
        });
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
