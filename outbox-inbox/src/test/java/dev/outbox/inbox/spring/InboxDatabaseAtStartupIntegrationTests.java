package dev.outbox.inbox.spring;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.outbox.OutboxException;
import dev.outbox.inbox.IdempotentListener;
import dev.outbox.inbox.InboxSchema;
import dev.outbox.inbox.InboxTable;
import dev.outbox.test.LogCapture;
import dev.outbox.test.ServiceStartup;
import dev.outbox.test.TcpProxy;
import dev.outbox.test.TestPostgres;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.messaging.handler.annotation.Header;

/**
 * A Spring Boot consumer (HikariCP, JDBC, the outbox and the inbox, an {@link IdempotentListener}
 * method) whose database does not answer when it starts, reached through a proxy: one that is down
 * (the proxy closes each connection at once), and one that accepts connections and then answers
 * nothing (a frozen host, a network that drops packets: the proxy holds every byte until the test
 * lets them through). The inbox behaves the same in both: the service starts, a message that comes
 * while the database does not answer fails without running its handler (the broker delivers it
 * again), and the first message once it answers creates or checks the table and is handled.
 *
 * <p>No wait here is a guess: each is bounded by the timeouts the test configures. The outbox's
 * database timeout, which the inbox's checks wait at most too, is 5 s ({@code
 * outbox.relay.lease-timeout}); the pool's connection timeout is 1 s.
 */
class InboxDatabaseAtStartupIntegrationTests {

  private static final Duration DATABASE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(1);

  /**
   * A guard for a startup that would never end: the outbox's check of its table waits at most one
   * database timeout for the database, the inbox's another, the rest of the startup takes a
   * fraction of the two others. The tests do not assert how long it took, but which limit ended the
   * wait (the log line saying so).
   */
  private static final Duration STARTUP_BOUND = DATABASE_TIMEOUT.multipliedBy(4);

  /** A guard for a message: the inbox waits at most one database timeout for the database. */
  private static final Duration MESSAGE_BOUND = DATABASE_TIMEOUT.multipliedBy(2);

  private static final String CONSUMER = "inbox-startup";

  private String schema;
  private String table;
  private TcpProxy database;
  private final AtomicReference<LogCapture> log = new AtomicReference<>();

  @BeforeEach
  void createSchemaAndProxy() throws Exception {
    schema = TestPostgres.get().createSchema("inbox_startup");
    table = schema + ".outbox_inbox";
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

  /** What the inbox does today with a database that refuses connections; the baseline. */
  @Test
  void withTheDatabaseDownAtStartupTheServiceStartsAndTheFirstMessageOnceItAnswersCreatesTheTable()
      throws Exception {
    database.goDown();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(STARTUP_BOUND, service())) {
      assertThat(inboxStartupWarnings())
          .singleElement(as(STRING))
          .isEqualTo(
              "WARN The database does not answer; the inbox table "
                  + table
                  + " will be checked when it does: Could not migrate "
                  + table
                  + ": The connection attempt failed.");
      Listener listener = context.getBean(Listener.class);
      String id = UUID.randomUUID().toString();

      assertThatThrownBy(() -> deliver(listener, "while down", id))
          .isInstanceOf(OutboxException.class)
          .hasMessage("Could not migrate " + table + ": The connection attempt failed.");
      assertThat(listener.handled()).as("the handler did not run").isEmpty();

      database.comeBack();
      deliver(listener, "once back", id);
      deliver(listener, "again", id);
      assertThat(listener.handled()).containsExactly("once back");
      assertThat(inboxTables()).as("the table and its history table").isEqualTo(2);
    }
  }

  /**
   * With migrations off the check of the team's table waits for the database the same way; once the
   * database answers, a message before the team has created the table fails saying so.
   */
  @Test
  void withMigrationsOffAndTheDatabaseDownTheFirstMessagesCheckForTheTeamsTable() throws Exception {
    database.goDown();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(
            STARTUP_BOUND, service("outbox.inbox.migration.enabled=false"))) {
      assertThat(inboxStartupWarnings())
          .singleElement(as(STRING))
          .isEqualTo(
              "WARN The database does not answer; the inbox table "
                  + table
                  + " will be checked when it does: Could not check the inbox table "
                  + table
                  + ": The connection attempt failed.");
      Listener listener = context.getBean(Listener.class);
      String id = UUID.randomUUID().toString();
      assertThatThrownBy(() -> deliver(listener, "while down", id))
          .isInstanceOf(OutboxException.class)
          .hasMessage(
              "Could not check the inbox table " + table + ": The connection attempt failed.");

      database.comeBack();
      assertThatThrownBy(() -> deliver(listener, "before the table", id))
          .isInstanceOf(OutboxException.class)
          .hasMessageStartingWith("The inbox table " + table + " is missing or incomplete (")
          .hasMessageEndingWith(
              "Create it with the DDL of dev.outbox.inbox.InboxSchema (see docs/consumers.md), or"
                  + " set outbox.inbox.migration.enabled=true to let the library create it.");

      TestPostgres.get().execute(InboxSchema.ddl(InboxTable.of(schema, "outbox_inbox")));
      deliver(listener, "once created", id);
      deliver(listener, "again", id);
      assertThat(listener.handled()).containsExactly("once created");
      assertThat(inboxTables()).as("the library ran no migration").isOne();
    }
  }

  /**
   * With the driver's defaults, a connection whose server answers nothing waits for ever, and
   * HikariCP opens its first connection on the caller's thread, unbounded by its connection
   * timeout. The inbox's check of its table waited in it for ever, after the outbox's had given up,
   * and the service never started. It now gives up after the database timeout, and the service
   * starts as with a database that is down; a message waits at most as long.
   */
  @Test
  void aDatabaseThatHangsAtStartupHoldsTheServiceUpAtMostADatabaseTimeoutPerCheck()
      throws Exception {
    database.freeze();
    try (ConfigurableApplicationContext context =
        ServiceStartup.startWithin(STARTUP_BOUND, service())) {
      assertThat(database.frozen()).as("the database still answers nothing").isTrue();
      assertThat(inboxStartupWarnings())
          .singleElement(as(STRING))
          .as("the database timeout ended the wait")
          .isEqualTo(
              "WARN The database does not answer; the inbox table "
                  + table
                  + " will be checked when it does: "
                  + gaveUp("Could not migrate " + table));
      Listener listener = context.getBean(Listener.class);
      String id = UUID.randomUUID().toString();

      assertThatThrownBy(() -> deliver(listener, "while hanging", id))
          .isInstanceOf(OutboxException.class)
          .hasMessage(gaveUp("Could not migrate " + table));
      assertThat(listener.handled()).as("the handler did not run").isEmpty();
      assertThat(database.frozen()).as("the database still answers nothing").isTrue();

      database.thaw();
      deliver(listener, "once it answers", id);
      deliver(listener, "again", id);
      assertThat(listener.handled()).containsExactly("once it answers");
      assertThat(inboxTables()).as("the table and its history table").isEqualTo(2);
    }
  }

  private String gaveUp(String step) {
    return step
        + ": the database did not answer a connection attempt within "
        + DATABASE_TIMEOUT.toMillis()
        + " ms (the outbox's database timeout); the attempt waits on for as long as the driver"
        + " lets it (pgjdbc's loginTimeout or socketTimeout)";
  }

  /**
   * Delivers a message to the listener, as a listener container would, on a thread of its own;
   * fails if that takes longer than {@link #MESSAGE_BOUND}, and throws what the listener threw.
   */
  private static void deliver(Listener listener, String payload, String id) throws Exception {
    FutureTask<Void> delivery = new FutureTask<>(() -> listener.on(payload, id), null);
    Thread thread = ServiceStartup.daemon("listener", delivery);
    try {
      delivery.get(MESSAGE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException ex) {
      if (ex.getCause() instanceof Exception failure) {
        throw failure;
      }
      throw ex;
    } catch (TimeoutException ex) {
      throw new AssertionError(
          "The listener did not return within "
              + MESSAGE_BOUND
              + "; it is at "
              + Arrays.toString(thread.getStackTrace()),
          ex);
    }
  }

  /** This test's inbox startup warnings (a service of another test may still log). */
  private List<String> inboxStartupWarnings() {
    return log.get().warnings("The database does not answer; the inbox table " + table + " ");
  }

  /** How many of the inbox table and its history table exist in this test's schema. */
  private long inboxTables() {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '"
                + schema
                + "' AND table_name IN ('outbox_inbox', 'outbox_inbox_schema_history')");
  }

  /** The consumer, its database reached through the proxy. */
  private SpringApplicationBuilder service(String... settings) {
    PGSimpleDataSource target = new PGSimpleDataSource();
    target.setUrl(TestPostgres.get().url());
    return new SpringApplicationBuilder(ConsumerApplication.class)
        .web(WebApplicationType.NONE)
        // Once the service has set its logging up, which drops earlier appenders
        .initializers(context -> log.set(LogCapture.of("dev.outbox")))
        .properties(
            "spring.datasource.url=jdbc:postgresql://127.0.0.1:"
                + database.port()
                + "/"
                + target.getDatabaseName(),
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "spring.datasource.hikari.connection-timeout=" + CONNECTION_TIMEOUT.toMillis(),
            "outbox.table.schema=" + schema,
            "outbox.inbox.table.schema=" + schema,
            "outbox.relay.lease-timeout=" + DATABASE_TIMEOUT.toMillis() + "ms")
        .properties(settings);
  }

  /** A JDBC consumer with one idempotent listener method, called as a container would call it. */
  @SpringBootConfiguration
  @EnableAutoConfiguration(
      excludeName = {
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
        "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"
      })
  static class ConsumerApplication {

    @Bean
    Listener listener() {
      return new Listener();
    }
  }

  /** Its bean is a proxy, so read it through methods. */
  public static class Listener {

    private final List<String> handled = new CopyOnWriteArrayList<>();

    @IdempotentListener(consumer = CONSUMER)
    public void on(String payload, @Header("ce_id") String id) {
      handled.add(payload);
    }

    public List<String> handled() {
      return List.copyOf(handled);
    }
  }
}
