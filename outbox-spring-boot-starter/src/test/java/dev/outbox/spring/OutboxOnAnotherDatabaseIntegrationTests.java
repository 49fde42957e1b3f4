package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.OutboxWriter;
import dev.outbox.PublishEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.PostgresWakeups;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.OutboxTransport;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
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
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An application with two databases whose outbox is on the one that is not the primary data source,
 * defined as docs/faq.md says: the outbox table is created in that database, events written in its
 * transactions land there and the relay publishes them, and the wake-ups listen there. With the
 * schema initializer and the wake-ups on the primary data source, the table went into the primary
 * database and every publish failed ("relation ... does not exist").
 */
class OutboxOnAnotherDatabaseIntegrationTests {

  /** The second database, on the server of {@link TestPostgres}; created if it is missing. */
  static final String OTHER_DATABASE = "outbox_test_other";

  private final String schema =
      ("other_db_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12))
          .toLowerCase(Locale.ROOT);
  private final DataSource primary = TestPostgres.get().dataSource();
  private final DataSource orders = otherDatabase();

  /**
   * A data source on {@link #OTHER_DATABASE}, created first if it does not exist: safe when tests
   * run twice, or side by side (a database created meanwhile by another run is fine).
   */
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
    JdbcTemplate jdbc = new JdbcTemplate(orders);
    jdbc.execute("CREATE SCHEMA " + schema);
    jdbc.execute("CREATE TABLE " + schema + ".purchase (id text PRIMARY KEY)");
  }

  @AfterEach
  void dropSchema() {
    new JdbcTemplate(orders).execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    // where the table went when the outbox's own beans followed the primary data source
    new JdbcTemplate(primary).execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }

  /** The outbox on the orders database, exactly as docs/faq.md tells an application to define. */
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
        ObjectProvider<OutboxRelay> relay,
        ObjectProvider<PostgresWakeups> wakeups) {
      // After each commit that wrote events: wake the local relay, else another instance's
      return new SpringOutbox(
          orders,
          outboxWriter,
          slots -> {
            OutboxRelay local = relay.getIfAvailable();
            if (local != null) {
              local.wakeUp(slots);
            } else {
              wakeups.ifAvailable(PostgresWakeups::signal);
            }
          });
    }
  }

  /** A service of the orders database. */
  static class Purchases {
    private final JdbcTemplate jdbc;
    private final String schema;

    Purchases(JdbcTemplate jdbc, String schema) {
      this.jdbc = jdbc;
      this.schema = schema;
    }

    @PublishEvent(destination = "purchases", key = "#result")
    public String purchase(String id) {
      jdbc.update("INSERT INTO " + schema + ".purchase VALUES (?)", id);
      return id;
    }
  }

  private ApplicationContextRunner application() {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
        .withPropertyValues("outbox.table.schema=" + schema)
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
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .withUserConfiguration(OrdersOutbox.class)
        .withBean(Purchases.class, () -> new Purchases(new JdbcTemplate(orders), schema));
  }

  private long count(DataSource dataSource, String sql, Object... args) {
    Long count = new JdbcTemplate(dataSource).queryForObject(sql, Long.class, args);
    return count == null ? 0 : count;
  }

  private long outboxTables(DataSource dataSource) {
    return count(
        dataSource,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?"
            + " AND table_name = 'outbox_event'",
        schema);
  }

  private boolean sent(RecordingTransport transport, String key) {
    return transport.sent().stream().map(OutboxEvent::key).anyMatch(key::equals);
  }

  @Test
  void theOutboxOfTheOtherDatabaseIsCreatedWrittenPublishedAndWokenThere() {
    application()
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              RecordingTransport transport =
                  (RecordingTransport) context.getBean(OutboxTransport.class);
              PlatformTransactionManager ordersManager =
                  context.getBean("ordersTransactionManager", PlatformTransactionManager.class);
              Outbox outbox = context.getBean(Outbox.class);

              // Outbox.publish in a transaction of the orders data source
              new TransactionTemplate(ordersManager)
                  .executeWithoutResult(
                      status -> {
                        new JdbcTemplate(orders)
                            .update("INSERT INTO " + schema + ".purchase VALUES ('p-1')");
                        outbox.publish("purchases", "p-1", "{}");
                      });
              // @PublishEvent without a transaction: one of the orders data source's manager
              context.getBean(Purchases.class).purchase("p-2");

              assertThat(outboxTables(orders)).as("the outbox table in " + OTHER_DATABASE).isOne();
              assertThat(outboxTables(primary)).as("no outbox table in the primary one").isZero();
              assertThat(count(orders, "SELECT count(*) FROM " + schema + ".purchase"))
                  .isEqualTo(2);
              await("the relay publishes both events")
                  .atMost(Duration.ofSeconds(10))
                  .until(() -> sent(transport, "p-1") && sent(transport, "p-2"));

              // The wake-ups listen on the orders database, where the events are written
              String channel = context.getBean(PostgresWakeups.class).channel();
              await("a LISTEN session in " + OTHER_DATABASE)
                  .atMost(Duration.ofSeconds(10))
                  .until(
                      () ->
                          count(
                                  orders,
                                  "SELECT count(*) FROM pg_stat_activity"
                                      + " WHERE datname = current_database() AND query = ?",
                                  "LISTEN " + channel)
                              > 0);
            });
  }
}
