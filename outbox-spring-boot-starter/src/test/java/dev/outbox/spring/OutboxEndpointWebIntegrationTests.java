package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jayway.jsonpath.JsonPath;
import dev.outbox.spring.webapp.WebTestApplication;
import dev.outbox.test.LogCapture;
import dev.outbox.test.TestPostgres;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The {@code outbox} endpoint and the health indicator over HTTP, in a web application on a real
 * port, against a real table.
 */
class OutboxEndpointWebIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("web");
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private ConfigurableApplicationContext context;
  private String base;

  @AfterEach
  void stop() {
    if (context != null) {
      context.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  private void start(String... extra) {
    start(WebApplicationType.SERVLET, extra);
  }

  /** The application's sources: the web application, and a transport when a test needs a relay. */
  private final List<Class<?>> sources = new ArrayList<>(List.of(WebTestApplication.class));

  /** Gives the application a relay (an in-memory transport). */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class WithRelay {
    @org.springframework.context.annotation.Bean
    RecordingTransport recordingTransport() {
      return new RecordingTransport();
    }
  }

  private void start(WebApplicationType type, String... extra) {
    List<String> properties =
        new ArrayList<>(
            List.of(
                "server.port=0",
                "spring.datasource.url=" + PostgresSchemas.urlFor(schema),
                "spring.datasource.username=" + TestPostgres.get().user(),
                "spring.datasource.password=" + TestPostgres.get().password(),
                "spring.jpa.open-in-view=false",
                "outbox.table.schema=" + schema,
                "outbox.health.cache-time-to-live=0s",
                "management.endpoints.web.exposure.include=*",
                "management.endpoint.health.show-details=always"));
    properties.addAll(List.of(extra));
    context =
        new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
            .web(type)
            .properties(properties.toArray(String[]::new))
            .run();
    base = "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
    if (type == WebApplicationType.NONE) {
      base = null;
    }
  }

  private UUID insert(String status, String destination, String error, String age) {
    UUID id = UUID.randomUUID();
    return StoredEvents.insert(
        schema, id, "k-" + id, status, destination, "OrderPlaced", error, age);
  }

  private String status(UUID id) {
    long dead =
        TestPostgres.get()
            .queryLong(
                "SELECT count(*) FROM "
                    + schema
                    + ".outbox_event WHERE status = 'DEAD' AND id = '"
                    + id
                    + "'");
    long pending =
        TestPostgres.get()
            .queryLong(
                "SELECT count(*) FROM "
                    + schema
                    + ".outbox_event WHERE status = 'PENDING' AND id = '"
                    + id
                    + "'");
    return dead == 1 ? "DEAD" : pending == 1 ? "PENDING" : "GONE";
  }

  private HttpResponse<String> send(String method, String path, String json, String user)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (user != null) {
      request.header("X-Test-User", user);
    }
    if (json != null) {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(json));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void writeOperationsAreRefusedByDefault() throws Exception {
    start();
    UUID dead = insert("DEAD", "orders", "boom", "1 minute");

    HttpResponse<String> summary = send("GET", "/actuator/outbox", null, null);
    assertThat(summary.statusCode()).isEqualTo(200);
    assertThat(summary.body()).contains(dead.toString());

    // Read-only: the write operations are not mapped at all; their paths answer only GET (the
    // summary, and /{page} for the operator page), so other methods are not allowed.
    assertThat(send("POST", "/actuator/outbox/" + dead, "", "alice").statusCode()).isEqualTo(405);
    assertThat(send("DELETE", "/actuator/outbox/" + dead, null, "alice").statusCode())
        .isEqualTo(405);
    assertThat(send("POST", "/actuator/outbox", "{\"all\":true}", "alice").statusCode())
        .isEqualTo(405);
    assertThat(send("DELETE", "/actuator/outbox?all=true", null, "alice").statusCode())
        .isEqualTo(405);
    assertThat(status(dead)).isEqualTo("DEAD");
  }

  @Test
  void theRelayIsPausedResumedAndDrainedThroughTheEndpointOnlyWithWriteAccess() throws Exception {
    sources.add(WithRelay.class);
    start();
    assertThat(send("POST", "/actuator/outbox/relay/pause", "", "alice").statusCode())
        .as(
            "read-only by default: no read operation has a path of this length (docs/operations.md)")
        .isEqualTo(404);
    OutboxRelayControl control = context.getBean(OutboxRelayControl.class);
    assertThat(control.isPaused()).isFalse();
    context.close();

    start("management.endpoint.outbox.access=unrestricted");
    control = context.getBean(OutboxRelayControl.class);
    try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
      HttpResponse<String> paused = send("POST", "/actuator/outbox/relay/pause", "", "alice");
      assertThat(paused.statusCode()).isEqualTo(200);
      assertThat(paused.body()).contains("\"paused\":true");
      assertThat(control.isPaused()).isTrue();
      assertThat(send("GET", "/actuator/outbox", null, null).body()).contains("\"paused\":true");
      HttpResponse<String> refused = send("POST", "/actuator/outbox/relay/drain", "", "alice");
      assertThat(refused.statusCode()).as("drain while paused").isEqualTo(400);
      OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
      assertThatThrownBy(() -> endpoint.control("'alice'", "relay", "drain"))
          .hasMessage("The outbox relay of this instance is paused; drain() needs it running");

      HttpResponse<String> resumed = send("POST", "/actuator/outbox/relay/resume", "", "bob");
      assertThat(resumed.statusCode()).isEqualTo(200);
      assertThat(control.isPaused()).isFalse();
      UUID pending = insert("PENDING", "orders", "", "1 second");
      HttpResponse<String> drained = send("POST", "/actuator/outbox/relay/drain", "", "bob");
      assertThat(drained.statusCode()).isEqualTo(200);
      assertThat(drained.body()).contains("\"drained\":true");
      assertThat(status(pending)).isEqualTo("GONE");

      HttpResponse<String> unknown = send("POST", "/actuator/outbox/relay/restart", "", "bob");
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThatThrownBy(() -> endpoint.control("'bob'", "relay", "restart"))
          .hasMessage("'restart' is not a relay action; use pause, resume or drain");

      assertThat(log.lines())
          .contains(
              "INFO Outbox endpoint: 'alice' paused the relay",
              "INFO Outbox endpoint: 'bob' resumed the relay",
              "INFO Outbox endpoint: 'bob' drained the relay");
    }
  }

  @Test
  void writeOperationsWorkWhenAccessIsUnrestrictedAndAreLoggedWithThePrincipal() throws Exception {
    start("management.endpoint.outbox.access=unrestricted");
    UUID single = insert("DEAD", "orders", "boom", "1 minute");
    UUID timeout = insert("DEAD", "orders", "Request TIMEOUT", "1 minute");
    UUID payment = insert("DEAD", "payments", "boom", "1 minute");
    UUID other = insert("DEAD", "invoices", "boom", "1 minute");

    try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
      HttpResponse<String> replay = send("POST", "/actuator/outbox/" + single, "", "alice");
      assertThat(replay.statusCode()).isEqualTo(200);
      assertThat(replay.body()).contains("\"replayed\":true");

      HttpResponse<String> bulkReplay =
          send(
              "POST",
              "/actuator/outbox",
              "{\"destination\":\"orders\",\"error\":\"timeout\"}",
              "alice");
      assertThat(bulkReplay.statusCode()).isEqualTo(200);
      assertThat(bulkReplay.body()).contains("\"replayed\":1");

      HttpResponse<String> bulkDiscard =
          send("DELETE", "/actuator/outbox?destination=payments", null, null);
      assertThat(bulkDiscard.statusCode()).isEqualTo(200);
      assertThat(bulkDiscard.body()).contains("\"discarded\":1");

      assertThat(log.lines())
          .containsExactly(
              "INFO Outbox endpoint: 'alice' replayed dead event " + single + ": 1 event(s)",
              "INFO Outbox endpoint: 'alice' replayed dead events matching"
                  + " {destination=orders, errorContains=timeout}: 1 event(s)",
              "WARN Outbox endpoint: an unauthenticated caller discarded dead events matching"
                  + " {destination=payments}: 1 event(s)");
    }
    assertThat(status(single)).isEqualTo("PENDING");
    assertThat(status(timeout)).isEqualTo("PENDING");
    assertThat(status(payment)).isEqualTo("GONE");
    assertThat(status(other)).isEqualTo("DEAD");

    // As `curl -X POST <url>` sends it: no body and no Content-Type.
    UUID bare = insert("DEAD", "orders", "boom", "1 minute");
    HttpResponse<String> bareReplay = send("POST", "/actuator/outbox/" + bare, null, "alice");
    assertThat(bareReplay.statusCode()).as(bareReplay.body()).isEqualTo(200);
    assertThat(status(bare)).isEqualTo("PENDING");

    assertThat(send("POST", "/actuator/outbox", "{}", "alice").statusCode()).isEqualTo(400);
    assertThat(send("DELETE", "/actuator/outbox", null, "alice").statusCode()).isEqualTo(400);
    assertThat(send("DELETE", "/actuator/outbox?deadFrom=yesterday", null, "alice").statusCode())
        .isEqualTo(400);
    assertThat(send("DELETE", "/actuator/outbox/not-a-uuid", null, "alice").statusCode())
        .isEqualTo(400);
    assertThat(status(other)).isEqualTo("DEAD");
  }

  /** The reason of a 400 in its JSON body; fails the test if the answer is not such a refusal. */
  private static String refusal(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
    assertThat((Integer) JsonPath.read(response.body(), "$.status")).isEqualTo(400);
    assertThat((String) JsonPath.read(response.body(), "$.error")).isEqualTo("Bad Request");
    return JsonPath.read(response.body(), "$.message");
  }

  /**
   * Refusals carry their reason in the body over HTTP, although Boot's error responses leave the
   * message out by default ({@code server.error.include-message=never}).
   */
  @Test
  void refusalsAnswerTheReasonInTheBody() throws Exception {
    start("management.endpoint.outbox.access=unrestricted");
    UUID dead = insert("DEAD", "orders", "boom", "1 minute");

    assertThat(refusal(send("GET", "/actuator/outbox?deadFrom=yesterday", null, null)))
        .isEqualTo(
            "'deadFrom' must be an ISO-8601 time with an offset, such as 2026-01-31T08:00:00Z, was"
                + " 'yesterday'");
    assertThat(refusal(send("GET", "/actuator/outbox?destination=%20", null, null)))
        .contains("destination");
    assertThat(refusal(send("DELETE", "/actuator/outbox", null, "alice")))
        .isEqualTo(
            "A bulk discard needs at least one of destination, type, key, error, deadFrom, deadTo,"
                + " createdFrom, createdTo, or all=true to discard every dead event");
    assertThat(refusal(send("POST", "/actuator/outbox", "{}", "alice")))
        .startsWith("A bulk replay needs at least one of");
    assertThat(refusal(send("POST", "/actuator/outbox", "{\"all\":true,\"type\":\"X\"}", "alice")))
        .isEqualTo("all=true cannot be combined with a filter ({type=X})");
    assertThat(refusal(send("DELETE", "/actuator/outbox?all=maybe", null, "alice")))
        .isEqualTo("'all' must be true or false, was 'maybe'");
    assertThat(refusal(send("DELETE", "/actuator/outbox/not-a-uuid", null, "alice")))
        .isEqualTo("'not-a-uuid' is not an event id (a UUID)");
    assertThat(refusal(send("POST", "/actuator/outbox/not-a-uuid", "", "alice")))
        .isEqualTo("'not-a-uuid' is not an event id (a UUID)");
    assertThat(refusal(send("POST", "/actuator/outbox/relay/restart", "", "alice"))).isNotBlank();
    assertThat(status(dead)).isEqualTo("DEAD");
  }

  private static final String FILTERS =
      "destination, type, key, error, deadFrom, deadTo, createdFrom, createdTo";

  /**
   * A misspelled filter would otherwise be dropped by Boot, and the operation would run with the
   * filters that are left: a bulk discard of every dead event of the destination.
   */
  @Test
  void anUnknownParameterIsRefusedNamingItAndTheAcceptedOnesAndNothingChanges() throws Exception {
    start("management.endpoint.outbox.access=unrestricted");
    UUID placed = insert("DEAD", "orders", "boom", "1 minute");
    UUID other = insert("DEAD", "orders", "x", "1 minute");

    try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
      assertThat(
              refusal(
                  send(
                      "DELETE",
                      "/actuator/outbox?destination=orders&tpye=OrderCancelled",
                      null,
                      "alice")))
          .isEqualTo(
              "Unknown parameter 'tpye', nothing was done; this request takes "
                  + FILTERS
                  + ", all");
      assertThat(
              refusal(
                  send(
                      "POST",
                      "/actuator/outbox",
                      "{\"destination\":\"orders\",\"errror\":\"x\"}",
                      "alice")))
          .isEqualTo(
              "Unknown parameter 'errror', nothing was done; this request takes "
                  + FILTERS
                  + ", all");
      assertThat(
              refusal(
                  send(
                      "POST",
                      "/actuator/outbox?tpye=OrderCancelled",
                      "{\"destination\":\"orders\"}",
                      "alice")))
          .startsWith("Unknown parameter 'tpye', nothing was done;");
      assertThat(
              refusal(
                  send(
                      "DELETE",
                      "/actuator/outbox?tpye=OrderCancelled&destination=orders&eror=x",
                      null,
                      "alice")))
          .startsWith("Unknown parameters 'tpye', 'eror', nothing was done;");
      assertThat(
              refusal(
                  send("DELETE", "/actuator/outbox?destination=orders&caller=bob", null, "alice")))
          .as("only what the request can set is accepted")
          .startsWith("Unknown parameter 'caller', nothing was done;");
      assertThat(
              refusal(
                  send("DELETE", "/actuator/outbox/" + placed + "?destination=orders", null, null)))
          .isEqualTo(
              "Unknown parameter 'destination', nothing was done; this request takes no"
                  + " parameters");
      assertThat(refusal(send("GET", "/actuator/outbox?destination=orders&tpye=X", null, null)))
          .isEqualTo("Unknown parameter 'tpye', nothing was done; this request takes " + FILTERS);
      assertThat(refusal(send("GET", "/actuator/outbox/ui?tab=dead", null, null)))
          .isEqualTo("Unknown parameter 'tab', nothing was done; this request takes no parameters");
      assertThat(log.lines()).isEmpty();
    }
    assertThat(status(placed)).isEqualTo("DEAD");
    assertThat(status(other)).isEqualTo("DEAD");

    // Parameters of other layers (Spring Security's _csrf, a cache buster) are left to them.
    HttpResponse<String> discarded =
        send("DELETE", "/actuator/outbox?destination=orders&error=boom&_csrf=t&_=1", null, "alice");
    assertThat(discarded.statusCode()).isEqualTo(200);
    assertThat(discarded.body()).contains("\"discarded\":1");
    assertThat(status(placed)).isEqualTo("GONE");
    assertThat(status(other)).isEqualTo("DEAD");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aStuckEventDoesNotFailTheApplicationHealthByDefault() throws Exception {
    start("outbox.health.max-pending-age=5m");
    insert("PENDING", "orders", "boom", "11 minutes");

    HttpResponse<String> health = send("GET", "/actuator/health", null, null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat((String) JsonPath.read(health.body(), "$.status")).isEqualTo("UP");
    assertThat((String) JsonPath.read(health.body(), "$.components.outbox.status")).isEqualTo("UP");
    assertThat((List<String>) JsonPath.read(health.body(), "$.components.outbox.details.problems"))
        .containsExactly("oldest pending event is older than PT5M");
  }

  @Test
  void aConfiguredProblemStatusTakesTheInstanceOutOfTheReadinessGroupOnly() throws Exception {
    start(
        "outbox.health.max-pending-age=5m",
        "outbox.health.problem-status=OUT_OF_SERVICE",
        "management.endpoint.health.probes.enabled=true",
        "management.endpoint.health.group.readiness.include=readinessState,outbox");
    insert("PENDING", "orders", "boom", "11 minutes");

    HttpResponse<String> readiness = send("GET", "/actuator/health/readiness", null, null);
    assertThat(readiness.statusCode()).isEqualTo(503);
    assertThat(readiness.body()).contains("\"status\":\"OUT_OF_SERVICE\"");
    assertThat(send("GET", "/actuator/health/liveness", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void overJmxTheWriteOperationsExistOnlyWhenAccessIsUnrestricted() throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    start(
        WebApplicationType.NONE,
        "spring.jmx.enabled=true",
        "spring.jmx.default-domain=outbox-" + schema,
        "management.endpoints.jmx.exposure.include=outbox");
    ObjectName name = new ObjectName("outbox-" + schema + ":type=Endpoint,name=Outbox");
    assertThat(server.getMBeanInfo(name).getOperations())
        .extracting(MBeanOperationInfo::getName)
        .containsExactly("summary");
    context.close();
    context = null;

    start(
        WebApplicationType.NONE,
        "spring.jmx.enabled=true",
        "spring.jmx.default-domain=outbox-" + schema,
        "management.endpoints.jmx.exposure.include=outbox",
        "management.endpoint.outbox.access=unrestricted");
    UUID dead = insert("DEAD", "orders", "boom", "1 minute");
    try (LogCapture log = LogCapture.of(OutboxEndpoint.class)) {
      Object result =
          server.invoke(
              name, "replay", new Object[] {dead.toString()}, new String[] {"java.lang.String"});
      assertThat(result.toString()).contains("replayed=true");
      assertThatThrownBy(
              () ->
                  server.invoke(
                      name,
                      "replay",
                      new Object[] {"not-a-uuid"},
                      new String[] {"java.lang.String"}))
          .as("over JMX a refusal stays an exception")
          .hasMessageContaining("'not-a-uuid' is not an event id (a UUID)");
      assertThat(log.lines())
          .containsExactly(
              "INFO Outbox endpoint: a JMX client replayed dead event " + dead + ": 1 event(s)");
    }
    assertThat(status(dead)).isEqualTo("PENDING");
  }
}
