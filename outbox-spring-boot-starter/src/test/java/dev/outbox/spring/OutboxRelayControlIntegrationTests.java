package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.Outbox;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.app.OrderService;
import dev.outbox.spring.app.TestApplication;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Pause, resume and drain through the public {@link OutboxRelayControl}, on real PostgreSQL. The
 * relay polls once an hour here, so no drain waits for a poll: the events are found when the relay
 * (re)starts and takes its slots, or when it is woken.
 */
class OutboxRelayControlIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("control");

  /** Generous: the relay is woken at once; this only bounds a hung test. */
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  private final DataSource dataSource = TestPostgres.get().dataSource();
  private final RecordingTransport transport = new RecordingTransport();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withPropertyValues("outbox.table.schema=" + SCHEMA, "outbox.relay.poll-interval=1h")
          .withBean(DataSource.class, () -> dataSource)
          .withBean(
              PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
          .withBean(OutboxTransport.class, () -> transport);

  @Test
  void pausedRelayStopsAndGivesItsSlotsBackThenResumesAndDrains() {
    runner.run(
        context -> {
          OutboxRelayControl control = context.getBean(OutboxRelayControl.class);
          OutboxRelay relay = context.getBean(OutboxRelay.class);
          assertThat(control.isPaused()).isFalse();

          control.pause();

          assertThat(control.isPaused()).isTrue();
          assertThat(relay.isRunning()).as("relay threads stopped").isFalse();
          assertThat(slotsOwned()).as("slots released to other instances").isZero();
          write(context.getBean(Outbox.class), context.getBean(PlatformTransactionManager.class));
          assertThatThrownBy(() -> control.drain(DRAIN_TIMEOUT))
              .isInstanceOf(IllegalStateException.class)
              .hasMessageContaining("paused");

          control.resume();

          assertThat(control.drain(DRAIN_TIMEOUT)).isTrue();
          assertThat(transport.sent()).extracting(e -> e.key()).containsExactly("paused-1");
          assertThat(pending()).isZero();
        });
  }

  @Test
  void pauseSurvivesAStopAndStartOfTheContext() {
    runner.run(
        context -> {
          OutboxRelayControl control = context.getBean(OutboxRelayControl.class);
          control.pause();

          context.stop();
          context.start();

          assertThat(control.isPaused()).isTrue();
          assertThat(context.getBean(OutboxRelay.class).isRunning()).isFalse();
          control.resume();
          assertThat(context.getBean(OutboxRelay.class).isRunning()).isTrue();
        });
  }

  @Test
  void withoutARelayPauseAndDrainSaySoInsteadOfDoingNothing() {
    runner
        .withPropertyValues("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxRelayControl control = context.getBean(OutboxRelayControl.class);
              assertThatThrownBy(control::pause)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("has no outbox relay");
              assertThatThrownBy(() -> control.drain(DRAIN_TIMEOUT))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("has no outbox relay");
            });
  }

  @Test
  void startsWithTheDatabaseDownThenCreatesTheTableAndPublishesOnceItAnswers() {
    PGSimpleDataSource switchable = (PGSimpleDataSource) TestPostgres.get().dataSource();
    int realPort = switchable.getPortNumbers()[0] == 0 ? 5432 : switchable.getPortNumbers()[0];
    switchable.setPortNumbers(new int[] {1}); // nothing listens there: the database is "down"
    String schema = TestPostgres.get().createSchema("down");
    try (LogCapture log = LogCapture.of(OutboxRelayLifecycle.class)) {
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withPropertyValues(
              "outbox.table.schema=" + schema,
              "outbox.relay.poll-interval=1h",
              "outbox.relay.max-error-backoff=1s")
          .withBean(DataSource.class, () -> switchable)
          .withBean(
              PlatformTransactionManager.class, () -> new DataSourceTransactionManager(switchable))
          .withBean(OutboxTransport.class, () -> transport)
          .run(
              context -> {
                assertThat(context).as("the application starts").hasNotFailed();
                OutboxRelay relay = context.getBean(OutboxRelay.class);
                assertThat(relay.isRunning()).as("waits for the table").isFalse();

                // The pauses between tries: 500 ms, doubling up to max-error-backoff (1 s here).
                // The four take 3.5 s; DRAIN_TIMEOUT only bounds a test that would otherwise hang.
                await().atMost(DRAIN_TIMEOUT).until(() -> startupPauses(log).size() >= 4);
                assertThat(startupPauses(log).subList(0, 4))
                    .containsExactly(500L, 1000L, 1000L, 1000L);
                Health down = context.getBean(OutboxHealthIndicator.class).health(true);
                assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                assertThat(String.valueOf(down.getDetails().get("error")))
                    .as("the health says why, the database's refusal included")
                    .startsWith("OutboxException: Could not read outbox statistics from ")
                    .contains("; caused by PSQLException: Connection to ");

                switchable.setPortNumbers(new int[] {realPort});
                // The next try comes within one pause (at most 1 s).
                await().atMost(DRAIN_TIMEOUT).until(relay::isRunning);
                new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                    .executeWithoutResult(
                        status -> context.getBean(Outbox.class).publish("orders", "down-1", "{}"));
                assertThat(context.getBean(OutboxRelayControl.class).drain(DRAIN_TIMEOUT)).isTrue();
                assertThat(transport.sent()).extracting(e -> e.key()).contains("down-1");
              });
    } finally {
      TestPostgres.get().dropSchema(schema);
    }
  }

  /**
   * The same with Spring Data JPA. Hibernate determines its dialect from the database's metadata
   * when it starts, and without a dialect set it fails the startup before the outbox is involved
   * (the next test); with {@code spring.jpa.database-platform} it starts, and with {@code
   * hibernate.boot.allow_jdbc_metadata_access=false} it does not even try to connect then. Schema
   * generation ({@code spring.jpa.hibernate.ddl-auto} other than {@code none}) would need the
   * database too.
   */
  @Test
  void aJpaApplicationStartsWithTheDatabaseDownThenPublishesWhatItWritesOnceItAnswers()
      throws Exception {
    String schema = jpaSchema();
    try (TcpProxy database = TestPostgres.get().proxy()) {
      database.goDown();
      try (ConfigurableApplicationContext context =
              jpaApplication(
                  database,
                  schema,
                  "spring.jpa.database-platform=org.hibernate.dialect.PostgreSQLDialect",
                  "spring.jpa.properties.hibernate.boot.allow_jdbc_metadata_access=false",
                  "spring.jpa.hibernate.ddl-auto=none");
          // Opened once the application has set its logging up, which drops earlier appenders
          LogCapture log = LogCapture.of(OutboxRelayLifecycle.class)) {
        OutboxRelay relay = context.getBean(OutboxRelay.class);
        OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
        assertThat(relay.isRunning()).as("waits for the table").isFalse();
        // The next try fails within a pause (at most 1 s) and the pool's connection timeout (1 s).
        await().atMost(DRAIN_TIMEOUT).until(() -> !startupPauses(log).isEmpty());
        assertThat(relay.isRunning()).as("still waits for the table").isFalse();
        Health down = health.health(true);
        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        assertThat(String.valueOf(down.getDetails().get("error")))
            .contains("Could not read outbox statistics from " + schema + ".outbox_event");

        database.comeBack();
        // The next try comes within one pause (at most max-error-backoff, 1 s).
        await().atMost(DRAIN_TIMEOUT).until(relay::isRunning);
        context.getBean(OrderService.class).placeOrder("jpa-down-1", 2);

        assertThat(context.getBean(OutboxRelayControl.class).drain(DRAIN_TIMEOUT)).isTrue();
        assertThat(context.getBean(RecordingTransport.class).sent())
            .extracting(e -> e.key())
            .containsExactly("jpa-down-1");
        assertThat(
                TestPostgres.get()
                    .queryLong(
                        "SELECT count(*) FROM "
                            + schema
                            + ".purchase_order WHERE id = 'jpa-down-1'"))
            .as("the order Hibernate wrote")
            .isOne();
        assertThat(health.health(true).getStatus()).isEqualTo(Status.UP);
      }
    } finally {
      TestPostgres.get().dropSchema(schema);
    }
  }

  /**
   * Hibernate's own behaviour, which docs/faq.md describes: with the database down and no dialect
   * set, the application does not start, whatever the outbox does.
   */
  @Test
  void aJpaApplicationWithoutADialectFailsToStartInHibernateWhileTheDatabaseIsDown()
      throws Exception {
    String schema = jpaSchema();
    try (TcpProxy database = TestPostgres.get().proxy()) {
      database.goDown();
      assertThatThrownBy(() -> jpaApplication(database, schema).close())
          .hasRootCauseMessage(
              "Unable to determine Dialect without JDBC metadata (please set"
                  + " 'jakarta.persistence.jdbc.url' for common cases or 'hibernate.dialect' when a"
                  + " custom Dialect implementation must be provided)");
    } finally {
      TestPostgres.get().dropSchema(schema);
    }
  }

  /** A schema with the JPA test application's {@code purchase_order} table. */
  private static String jpaSchema() {
    String schema = TestPostgres.get().createSchema("jpadown");
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + schema
                + ".purchase_order (id varchar(255) PRIMARY KEY, quantity int NOT NULL)");
    return schema;
  }

  /** Starts the JPA test application with its database reached through {@code database}. */
  private static ConfigurableApplicationContext jpaApplication(
      TcpProxy database, String schema, String... settings) {
    PGSimpleDataSource target = new PGSimpleDataSource();
    target.setUrl(TestPostgres.get().url());
    return new SpringApplicationBuilder(TestApplication.class)
        .web(WebApplicationType.NONE)
        .properties(
            "spring.datasource.url=jdbc:postgresql://127.0.0.1:"
                + database.port()
                + "/"
                + target.getDatabaseName()
                + "?currentSchema="
                + schema,
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "spring.datasource.hikari.connection-timeout=1000",
            "outbox.table.schema=" + schema,
            "outbox.relay.poll-interval=1h",
            "outbox.relay.max-error-backoff=1s",
            "outbox.health.cache-time-to-live=0")
        .properties(settings)
        .run();
  }

  /** The pauses the relay's startup logged while it waited for the table, in milliseconds. */
  private static List<Long> startupPauses(LogCapture log) {
    Pattern pause = Pattern.compile("Outbox table not ready yet; retrying in (\\d+) ms");
    List<Long> pauses = new ArrayList<>();
    for (String line : log.lines()) {
      Matcher matcher = pause.matcher(line);
      if (matcher.find()) {
        pauses.add(Long.parseLong(matcher.group(1)));
      }
    }
    return pauses;
  }

  private static void write(Outbox outbox, PlatformTransactionManager transactions) {
    new TransactionTemplate(transactions)
        .executeWithoutResult(status -> outbox.publish("orders", "paused-1", "{}"));
  }

  private static long slotsOwned() {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + SCHEMA + ".outbox_event_slot WHERE owner IS NOT NULL");
  }

  private static long pending() {
    return TestPostgres.get()
        .queryLong("SELECT count(*) FROM " + SCHEMA + ".outbox_event WHERE status = 'PENDING'");
  }
}
