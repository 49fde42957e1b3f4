package dev.outbox.testing;

import static dev.outbox.testing.OutboxAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Outbox;
import dev.outbox.OutboxWriter;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.SpringOutbox;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The test kit of an application whose outbox is on a database that is not the primary data source
 * (defined as docs/faq.md says): the kit reads and drains the outbox table of that database. With
 * the kit on the primary data source, every call failed with "relation ... does not exist".
 */
class OutboxTestKitOnAnotherDatabaseIntegrationTests {

  /** The second database, on the server of {@link TestPostgres}; created if it is missing. */
  static final String OTHER_DATABASE = "outbox_test_other";

  private final String schema =
      ("tk_other_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12))
          .toLowerCase(Locale.ROOT);
  private final DataSource primary = TestPostgres.get().dataSource();
  private final DataSource orders = otherDatabase();

  private static DataSource otherDatabase() {
    try (Connection connection = TestPostgres.get().connect();
        Statement statement = connection.createStatement()) {
      boolean exists;
      try (ResultSet rs =
          statement.executeQuery(
              "SELECT 1 FROM pg_database WHERE datname = '" + OTHER_DATABASE + "'")) {
        exists = rs.next();
      }
      if (!exists) {
        statement.execute("CREATE DATABASE " + OTHER_DATABASE);
      }
    } catch (SQLException ex) {
      // 42P04: created meanwhile; 23505: the same, caught by pg_database's unique index
      if (!"42P04".equals(ex.getSQLState()) && !"23505".equals(ex.getSQLState())) {
        throw new IllegalStateException("Could not create " + OTHER_DATABASE, ex);
      }
    }
    PGSimpleDataSource dataSource = (PGSimpleDataSource) TestPostgres.get().dataSource();
    dataSource.setDatabaseName(OTHER_DATABASE);
    return dataSource;
  }

  @BeforeEach
  void createSchema() {
    new JdbcTemplate(orders).execute("CREATE SCHEMA " + schema);
  }

  @AfterEach
  void dropSchema() {
    new JdbcTemplate(orders).execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    new JdbcTemplate(primary).execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }

  /** The outbox on the orders database, as docs/faq.md tells an application to define it. */
  @Configuration(proxyBeanMethods = false)
  static class OrdersOutbox {

    @Bean
    PostgresOutboxRepository ordersOutboxRepository(
        @Qualifier("ordersDataSource") DataSource orders, TableName outboxTableName) {
      return new PostgresOutboxRepository(orders, outboxTableName);
    }

    @Bean
    SpringOutbox ordersOutbox(
        @Qualifier("ordersDataSource") DataSource orders,
        OutboxWriter outboxWriter,
        ObjectProvider<OutboxRelay> relay) {
      return new SpringOutbox(
          orders, outboxWriter, slots -> relay.ifAvailable(local -> local.wakeUp(slots)));
    }
  }

  private ApplicationContextRunner application(String... properties) {
    return new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                OutboxTestTransportAutoConfiguration.class,
                OutboxAutoConfiguration.class,
                OutboxTestKitAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + schema, "outbox.relay.notify=false")
        .withPropertyValues(properties)
        .withBean("applicationDataSource", DataSource.class, () -> primary, d -> d.setPrimary(true))
        .withBean("ordersDataSource", DataSource.class, () -> orders)
        .withBean(
            "transactionManager",
            PlatformTransactionManager.class,
            () -> new DataSourceTransactionManager(primary),
            d -> d.setPrimary(true))
        .withBean(
            "ordersTransactionManager",
            PlatformTransactionManager.class,
            () -> new DataSourceTransactionManager(orders))
        .withUserConfiguration(OrdersOutbox.class);
  }

  private static void write(ApplicationContext context, String key) {
    new TransactionTemplate(
            context.getBean("ordersTransactionManager", PlatformTransactionManager.class))
        .executeWithoutResult(
            status -> context.getBean(Outbox.class).publish("notes", key, new Note(key)));
  }

  @Test
  void drainsAndReadsTheOutboxOfTheOtherDatabase() {
    application()
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              write(context, "n-1");

              assertThat(kit.published()).hasPublished("Note").withKey("n-1").once();
              assertThat(kit.pending()).isEmpty();
              assertThat(kit.dead()).isEmpty();
            });
  }

  @Test
  void withoutARelayReadsTheEventsWrittenInTheOtherDatabase() {
    application("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              write(context, "n-2");

              assertThat(kit.pending()).hasPublished("Note").withKey("n-2").once();
              assertThat(kit.table().deleteAll()).isOne();
            });
  }

  @Test
  void insideATransactionOfTheOtherDatabaseSeesItsUncommittedEvents() {
    application("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              new TransactionTemplate(
                      context.getBean("ordersTransactionManager", PlatformTransactionManager.class))
                  .executeWithoutResult(
                      status -> {
                        context.getBean(Outbox.class).publish("notes", "n-3", new Note("n-3"));
                        assertThat(kit.pending()).hasPublished("Note").withKey("n-3").once();
                        status.setRollbackOnly();
                      });
              assertThat(kit.pending()).isEmpty();
            });
  }

  record Note(String text) {}
}
