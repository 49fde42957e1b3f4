package dev.outbox.spring;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.jdbcapp.JdbcTestApplication;
import dev.outbox.spring.jdbcapp.PaymentService;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.TableName;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring Boot services (HikariCP) whose database does not answer when they start, reached through a
 * proxy: one that is down (the proxy closes each connection at once) while the team owns the DDL
 * ({@code outbox.migration.enabled=false}).
 *
 * <p>No wait here is a guess: each is bounded by the timeouts the test configures. The outbox's
 * database timeout is 5 s ({@code outbox.relay.lease-timeout}), the pool's connection timeout 1 s,
 * the relay's longest pause between tries 1 s.
 */
class DatabaseAtStartupIntegrationTests {

  private static final Duration DATABASE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(1);

  /**
   * How long the relay takes to start once the database answers: its next try comes within a pause,
   * and a try waits for the database at most a database timeout; the try under way when the
   * database came back may still fail, so two of them.
   */
  private static final Duration RETRY_BOUND =
      MAX_ERROR_BACKOFF.plus(DATABASE_TIMEOUT).multipliedBy(2);

  private String schema;
  private TcpProxy database;
  private final AtomicReference<LogCapture> log = new AtomicReference<>();

  @BeforeEach
  void createSchemaAndProxy() throws Exception {
    schema = JdbcTestApplication.createSchema("startup");
    database = TestPostgres.get().proxy();
  }

  @AfterEach
  void closeProxyAndDropSchema() throws Exception {
    database.close();
    LogCapture capture = log.get();
    if (capture != null) {
      capture.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  @Test
  void withMigrationsOffAndTheDatabaseDownTheServiceStartsWaitsForTheTeamsTableThenPublishes()
      throws Exception {
    database.goDown();
    try (ConfigurableApplicationContext context =
        jdbcService("outbox.migration.enabled=false").run()) {
      OutboxRelay relay = context.getBean(OutboxRelay.class);
      OutboxHealthIndicator health = context.getBean(OutboxHealthIndicator.class);
      String table = schema + ".outbox_event";
      assertThat(relay.isRunning()).as("waits for the table").isFalse();
      assertThat(startupWarnings())
          .singleElement(as(STRING))
          .isEqualTo(
              "WARN The database does not answer; the outbox table "
                  + table
                  + " will be checked when it does: Could not check the outbox table '"
                  + table
                  + "': The connection attempt failed.");
      Health down = health.health(true);
      assertThat(down.getStatus()).isEqualTo(Status.DOWN);
      assertThat(String.valueOf(down.getDetails().get("error")))
          .as("the health says why, the driver's failure included")
          .isEqualTo(
              "OutboxException: Could not read outbox statistics from "
                  + table
                  + "; caused by PSQLException: The connection attempt failed.; caused by"
                  + " EOFException");

      database.comeBack();
      // The database answers, the table is not there yet: the relay keeps waiting, saying why
      String missing = "The outbox table '" + table + "' does not exist.";
      await().atMost(RETRY_BOUND).until(() -> !log.get().warnings(missing).isEmpty());
      assertThat(log.get().warnings(missing).get(0))
          .startsWith("WARN Outbox table not ready yet; retrying in ")
          .contains(
              missing
                  + " Either let the library create it (outbox.migration.enabled=true, the"
                  + " default), or create it yourself with the DDL in docs/schema.md");
      assertThat(relay.isRunning()).isFalse();
      Health stillDown = health.health(true);
      assertThat(stillDown.getStatus()).isEqualTo(Status.DOWN);
      assertThat(String.valueOf(stillDown.getDetails().get("error")))
          .startsWith(
              "OutboxException: Could not read outbox statistics from "
                  + table
                  + "; caused by PSQLException: ERROR: relation \""
                  + table
                  + "\" does not exist");

      // The team runs its DDL (docs/schema.md)
      OutboxSchema.create(TestPostgres.get().dataSource(), TableName.of(schema, "outbox_event"));
      await().atMost(RETRY_BOUND).until(relay::isRunning);
      context.getBean(PaymentService.class).capture("ddl-1", 100, false);

      assertThat(drained(context)).isTrue();
      assertThat(context.getBean(RecordingTransport.class).sent())
          .extracting(e -> e.key())
          .containsExactly("ddl-1");
      assertThat(health.health(true).getStatus()).isEqualTo(Status.UP);
      assertThat(
              TestPostgres.get()
                  .queryLong(
                      "SELECT count(*) FROM pg_tables WHERE schemaname = '"
                          + schema
                          + "' AND tablename = 'outbox_event_schema_history'"))
          .as("the library ran no migration")
          .isZero();
    }
  }

  /** This test's startup warnings (a service of another test may still log). */
  private List<String> startupWarnings() {
    return log.get().warnings("The database does not answer; the outbox table " + schema + ".");
  }

  /** Drains within a database timeout: each of the relay's statements waits at most that. */
  private static boolean drained(ConfigurableApplicationContext context) throws Exception {
    return context.getBean(OutboxRelayControl.class).drain(DATABASE_TIMEOUT);
  }

  /** The JDBC test service, its database reached through the proxy. */
  private SpringApplicationBuilder jdbcService(String... settings) {
    return service(JdbcTestApplication.class).properties(settings);
  }

  private SpringApplicationBuilder service(Class<?> application) {
    return new SpringApplicationBuilder(application)
        .web(WebApplicationType.NONE)
        // Once the service has set its logging up, which drops earlier appenders
        .initializers(context -> log.set(LogCapture.of("dev.outbox.spring")))
        .properties(
            "spring.datasource.url=" + url(""),
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "spring.datasource.hikari.connection-timeout=" + CONNECTION_TIMEOUT.toMillis(),
            "outbox.table.schema=" + schema,
            "outbox.relay.lease-timeout=" + DATABASE_TIMEOUT.toMillis() + "ms",
            "outbox.relay.max-error-backoff=" + MAX_ERROR_BACKOFF.toMillis() + "ms",
            "outbox.health.cache-time-to-live=0");
  }

  private String url(String parameters) {
    PGSimpleDataSource target = new PGSimpleDataSource();
    target.setUrl(TestPostgres.get().url());
    return "jdbc:postgresql://127.0.0.1:"
        + database.port()
        + "/"
        + target.getDatabaseName()
        + "?currentSchema="
        + schema
        + parameters;
  }
}
