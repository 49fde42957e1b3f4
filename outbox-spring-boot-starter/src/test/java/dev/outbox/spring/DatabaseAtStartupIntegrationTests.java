package dev.outbox.spring;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import dev.outbox.relay.OutboxRelay;
import dev.outbox.spring.app.OrderService;
import dev.outbox.spring.app.TestApplication;
import dev.outbox.spring.jdbcapp.JdbcTestApplication;
import dev.outbox.spring.jdbcapp.PaymentService;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresWakeups;
import dev.outbox.store.TableName;
import dev.outbox.test.LogCapture;
import dev.outbox.test.ServiceStartup;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring Boot services (HikariCP; JDBC and JPA) whose database does not answer when they start,
 * reached through a proxy: one that is down (the proxy closes each connection at once) while the
 * team owns the DDL ({@code outbox.migration.enabled=false}), and one that accepts connections and
 * then answers nothing (a frozen host, a network that drops packets: the proxy holds every byte
 * until the test lets them through).
 *
 * <p>No wait here is a guess: each is bounded by the timeouts the test configures. The outbox's
 * database timeout is 5 s ({@code outbox.relay.lease-timeout}), the pool's connection timeout 1 s,
 * the relay's longest pause between tries 1 s, the driver's timeouts (where set) 1 s.
 */
class DatabaseAtStartupIntegrationTests {

  private static final Duration DATABASE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(1);
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(1);

  /**
   * How long the relay takes to start once the database answers: its next try comes within a pause,
   * and a try waits for the database at most a database timeout; the try under way when the
   * database came back may still fail, so two of them.
   */
  private static final Duration RETRY_BOUND =
      MAX_ERROR_BACKOFF.plus(DATABASE_TIMEOUT).multipliedBy(2);

  /**
   * A guard for a startup that would never end: the outbox waits at most one database timeout for
   * the database at startup, the rest of the startup takes a fraction of the two others. The tests
   * do not assert how long it took, but which limit ended the wait (the log line saying so).
   */
  private static final Duration STARTUP_BOUND = DATABASE_TIMEOUT.multipliedBy(3);

  /** Where a startup, and a health reading, wait while the pool opens its first connection. */
  private static final String DRIVER_CONNECTING = "org.postgresql.core.v3.ConnectionFactoryImpl";

  private static final String POOL_CONNECTION = "com.zaxxer.hikari.HikariDataSource.getConnection";

  private String schema;
  private TcpProxy database;
  private final AtomicReference<LogCapture> log = new AtomicReference<>();

  @BeforeEach
  void createSchemaAndProxy() throws Exception {
    schema = JdbcTestApplication.createSchema("startup");
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + schema
                + ".purchase_order (id varchar(255) PRIMARY KEY, quantity int NOT NULL)");
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

  /**
   * With the driver's own timeouts set, the pool's first connection fails after 1 s, shorter than
   * the outbox's database timeout: the service starts as with a database that refuses connections,
   * and the health says why.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "connectTimeout=1&socketTimeout=1 | The connection attempt failed."
            + " | ; caused by SocketTimeoutException: Read timed out",
        "loginTimeout=1 | Connection attempt timed out. | ''"
      })
  void aDatabaseThatHangsAtStartupHoldsTheServiceUpOnlyUntilTheDriverGivesUp(
      String driverSettings, String driverFailure, String itsCause) throws Exception {
    database.freeze();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(
            STARTUP_BOUND,
            jdbcService().properties("spring.datasource.url=" + url("&" + driverSettings)))) {
      assertThat(database.frozen()).as("the database still answers nothing").isTrue();
      String table = schema + ".outbox_event";
      assertThat(startupWarnings())
          .singleElement(as(STRING))
          .as("the driver's timeout ended the wait")
          .isEqualTo(
              "WARN The database does not answer; the outbox table "
                  + table
                  + " will be checked when it does: Could not migrate "
                  + table
                  + ": "
                  + driverFailure);
      OutboxRelay relay = context.getBean(OutboxRelay.class);
      assertThat(relay.isRunning()).as("waits for the table").isFalse();
      Health down = context.getBean(OutboxHealthIndicator.class).health(true);
      assertThat(down.getStatus()).isEqualTo(Status.DOWN);
      assertThat(String.valueOf(down.getDetails().get("error")))
          .isEqualTo(
              "OutboxException: Could not read outbox statistics from "
                  + table
                  + "; caused by PSQLException: "
                  + driverFailure
                  + itsCause);

      database.thaw();
      publishesOnceTheDatabaseAnswers(context, relay);
    }
  }

  /**
   * With the driver's defaults, a connection whose server answers nothing waits for ever. HikariCP
   * makes its first connection on the caller's thread, and its connection timeout does not bound
   * that one (pgjdbc ignores the login timeout HikariCP sets through {@code DriverManager}): the
   * outbox's startup check waited for ever in it, and the service never started. It now gives up
   * after its database timeout, and the service starts. Everything else that asks the pool for a
   * connection meanwhile waits behind that first one, the outbox's health too.
   */
  @Test
  void aDatabaseThatHangsAtStartupHoldsTheServiceUpAtMostTheOutboxDatabaseTimeout()
      throws Exception {
    database.freeze();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(STARTUP_BOUND, jdbcService())) {
      assertThat(database.frozen()).as("the database still answers nothing").isTrue();
      String table = schema + ".outbox_event";
      assertThat(startupWarnings())
          .singleElement(as(STRING))
          .as("the outbox's database timeout ended the wait")
          .isEqualTo(outboxGaveUp(table));
      OutboxRelay relay = context.getBean(OutboxRelay.class);
      assertThat(relay.isRunning()).as("waits for the table").isFalse();

      FutureTask<Health> reading =
          new FutureTask<>(() -> context.getBean(OutboxHealthIndicator.class).health(true));
      Thread reader = ServiceStartup.daemon("health-reader", reading);
      await()
          .atMost(DATABASE_TIMEOUT)
          .until(() -> reader.getState() == Thread.State.BLOCKED && at(reader, POOL_CONNECTION));
      assertThat(reading.isDone()).as("the health waits for the pool's first connection").isFalse();

      database.thaw();
      assertThat(reading.get(RETRY_BOUND.toMillis(), TimeUnit.MILLISECONDS))
          .as("the health answers once the database does")
          .isNotNull();
      publishesOnceTheDatabaseAnswers(context, relay);
    }
  }

  /**
   * A relay paused while it waited for a silent database, and resumed once the database answered
   * (the wait then ends with the table checked and the relay left paused), listens for other
   * instances' wake-ups when resumed, as one that was never paused.
   */
  @Test
  void aRelayPausedWhileTheDatabaseHungListensOnceResumed() throws Exception {
    database.freeze();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(STARTUP_BOUND, jdbcService())) {
      OutboxRelayControl control = context.getBean(OutboxRelayControl.class);
      control.pause();
      database.thaw();
      OutboxSchemaInitializer schemaCheck = context.getBean(OutboxSchemaInitializer.class);
      await("the table checked").atMost(RETRY_BOUND).until(schemaCheck::isInitialized);
      OutboxRelay relay = context.getBean(OutboxRelay.class);
      assertThat(relay.isRunning()).as("still paused").isFalse();

      control.resume();
      publishesOnceTheDatabaseAnswers(context, relay);
    }
  }

  /**
   * A service that never reached its database stops. The relay's wait for the table waits at most a
   * database timeout for each connection, and the wake-ups listen only once the database has
   * answered: their listening thread waited for the pool's first connection for ever, and the
   * shutdown for that thread ({@code Waiting for thread outbox-listen to end}, every second).
   */
  @Test
  void aServiceStoppedWhileItsDatabaseStillHangsStopsAndLeavesNoRelayThread() throws Exception {
    database.freeze();
    ConfigurableApplicationContext context =
        ServiceStartup.startWithin(STARTUP_BOUND, jdbcService());
    Thread waiter = thread("outbox-relay-startup");
    assertThat(waiter).as("the relay waits for the table").isNotNull();

    FutureTask<Void> closing = new FutureTask<>(context::close, null);
    ServiceStartup.daemon("service-close", closing);
    // The relay's shutdown waits for the waiter's try: at most a database timeout
    closing.get(DATABASE_TIMEOUT.plus(SHUTDOWN_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS);

    assertThat(database.frozen()).as("the database still answers nothing").isTrue();
    assertThat(waiter.isAlive()).isFalse();
  }

  /**
   * A JPA service set up as docs/faq.md says for a database that is down at startup (the dialect
   * set, Hibernate's metadata access off, {@code ddl-auto} set to {@code none}) starts while its
   * database hangs too.
   */
  @Test
  void aJpaServiceSetUpForADatabaseThatIsDownStartsWhileTheDatabaseHangs() throws Exception {
    database.freeze();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(
            STARTUP_BOUND,
            jpaService(
                "spring.jpa.database-platform=org.hibernate.dialect.PostgreSQLDialect",
                "spring.jpa.properties.hibernate.boot.allow_jdbc_metadata_access=false",
                "spring.jpa.hibernate.ddl-auto=none"))) {
      assertThat(database.frozen()).as("the database still answers nothing").isTrue();
      assertThat(startupWarnings())
          .singleElement(as(STRING))
          .isEqualTo(outboxGaveUp(schema + ".outbox_event"));
      OutboxRelay relay = context.getBean(OutboxRelay.class);
      assertThat(relay.isRunning()).as("waits for the table").isFalse();

      database.thaw();
      await().atMost(RETRY_BOUND).until(relay::isRunning);
      context.getBean(OrderService.class).placeOrder("jpa-hang-1", 1);
      assertThat(drained(context)).isTrue();
      assertThat(context.getBean(RecordingTransport.class).sent())
          .extracting(e -> e.key())
          .containsExactly("jpa-hang-1");
    }
  }

  /**
   * Without one of those settings a JPA service's startup waits in Spring Boot or Hibernate for the
   * pool's first connection, before the outbox is reached, for as long as the driver lets it: with
   * {@code ddl-auto} unset, Spring Boot connects to decide whether the database is embedded (a
   * database that refuses connections is taken for one that is not: {@code none}); with metadata
   * access on, Hibernate connects to read the database's metadata. The test shows where the startup
   * waits, then lets the database answer.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "spring.jpa.properties.hibernate.boot.allow_jdbc_metadata_access=false"
            + " | org.springframework.boot.jdbc.EmbeddedDatabaseConnection.isEmbedded",
        "spring.jpa.hibernate.ddl-auto=none"
            + " | org.hibernate.engine.jdbc.env.internal.JdbcEnvironmentInitiator"
            + ".getJdbcEnvironmentUsingJdbcMetadata"
      })
  void otherwiseAJpaServiceWaitsForTheDatabaseInSpringBootOrHibernate(
      String setting, String waitingIn) throws Exception {
    database.freeze();
    FutureTask<ConfigurableApplicationContext> startup =
        new FutureTask<>(
            jpaService(
                    "spring.jpa.database-platform=org.hibernate.dialect.PostgreSQLDialect", setting)
                ::run);
    Thread starter = ServiceStartup.daemon("service-startup", startup);
    try {
      await()
          .atMost(STARTUP_BOUND)
          .until(() -> at(starter, waitingIn) && at(starter, DRIVER_CONNECTING));
      assertThat(starter.getStackTrace())
          .extracting(StackTraceElement::getClassName)
          .as("the outbox is not involved yet")
          .noneMatch(
              name ->
                  name.startsWith("dev.outbox.")
                      && !name.startsWith(DatabaseAtStartupIntegrationTests.class.getName()));

      database.thaw();
      startup.get(STARTUP_BOUND.toMillis(), TimeUnit.MILLISECONDS).close();
    } finally {
      ServiceStartup.closeOnceStarted(startup);
    }
  }

  private String outboxGaveUp(String table) {
    return "WARN The database does not answer; the outbox table "
        + table
        + " will be checked when it does: Could not migrate "
        + table
        + ": the database did not answer a connection attempt within "
        + DATABASE_TIMEOUT.toMillis()
        + " ms (the outbox's database timeout); the attempt waits on for as long as the driver"
        + " lets it (pgjdbc's loginTimeout or socketTimeout)";
  }

  private void publishesOnceTheDatabaseAnswers(
      ConfigurableApplicationContext context, OutboxRelay relay) throws Exception {
    await().atMost(RETRY_BOUND).until(relay::isRunning);
    awaitListening(context);
    context.getBean(PaymentService.class).capture("hang-1", 100, false);
    assertThat(drained(context)).isTrue();
    assertThat(context.getBean(RecordingTransport.class).sent())
        .extracting(e -> e.key())
        .containsExactly("hang-1");
    assertThat(context.getBean(OutboxHealthIndicator.class).health(true).getStatus())
        .isEqualTo(Status.UP);
  }

  /**
   * Waits, a database timeout at most, for the wake-ups' LISTEN session: other instances' commits
   * wake this relay only through it.
   */
  private static void awaitListening(ConfigurableApplicationContext context) {
    String channel = context.getBean(PostgresWakeups.class).channel();
    await("a LISTEN session on " + channel)
        .atMost(DATABASE_TIMEOUT)
        .until(
            () ->
                TestPostgres.get()
                        .queryLong(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                + " current_database() AND query = 'LISTEN "
                                + channel
                                + "'")
                    > 0);
  }

  /** This test's startup warnings (a service of another test may still log). */
  private List<String> startupWarnings() {
    return log.get().warnings("The database does not answer; the outbox table " + schema + ".");
  }

  /** Drains within a database timeout: each of the relay's statements waits at most that. */
  private static boolean drained(ConfigurableApplicationContext context) throws Exception {
    return context.getBean(OutboxRelayControl.class).drain(DATABASE_TIMEOUT);
  }

  /** Whether {@code thread} is in {@code frame} (a class, or a class and method) now. */
  private static boolean at(Thread thread, String frame) {
    return Arrays.stream(thread.getStackTrace())
        .map(element -> element.getClassName() + "." + element.getMethodName())
        .anyMatch(name -> name.startsWith(frame));
  }

  /** The live thread named {@code name}, or null. */
  private static Thread thread(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  /** The JDBC test service, its database reached through the proxy. */
  private SpringApplicationBuilder jdbcService(String... settings) {
    return service(JdbcTestApplication.class).properties(settings);
  }

  /** The JPA test service, its database reached through the proxy. */
  private SpringApplicationBuilder jpaService(String... settings) {
    return service(TestApplication.class).properties(settings);
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
            "outbox.relay.shutdown-timeout=" + SHUTDOWN_TIMEOUT.toMillis() + "ms",
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
