package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import dev.outbox.spring.pageapp.PageTestApplication;
import dev.outbox.test.TestPostgres;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.ObjectMapper;

/**
 * The operator page ({@code /actuator/outbox/ui}) in headless Chromium, served by a web application
 * on a real port against a real table holding pending and dead events in two destinations, with a
 * relay that has published to a third.
 */
class OperatorPageIntegrationTests {

  private static final String READ_ONLY = "management.endpoint.outbox.access=read-only";
  private static final String UNRESTRICTED = "management.endpoint.outbox.access=unrestricted";

  private final String schema = TestPostgres.get().createSchema("page");
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private HeadlessChromium chromium;
  private ConfigurableApplicationContext context;
  private String base;

  @BeforeEach
  void findChromium() {
    chromium = HeadlessChromium.find();
  }

  @AfterEach
  void stop() {
    if (context != null) {
      context.close();
    }
    TestPostgres.get().dropSchema(schema);
  }

  private void start(String... extra) throws Exception {
    List<String> properties =
        new ArrayList<>(
            List.of(
                "server.port=0",
                "spring.datasource.url=" + PostgresSchemas.urlFor(schema),
                "spring.datasource.username=" + TestPostgres.get().user(),
                "spring.datasource.password=" + TestPostgres.get().password(),
                "spring.jpa.open-in-view=false",
                "outbox.table.schema=" + schema,
                "management.endpoints.web.exposure.include=outbox,metrics"));
    properties.addAll(List.of(extra));
    context =
        new SpringApplicationBuilder(PageTestApplication.class)
            .web(WebApplicationType.SERVLET)
            .properties(properties.toArray(String[]::new))
            .run();
    base = "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
  }

  /**
   * Pending events in orders (3) and payments (2) that wait for a retry an hour away, so the relay
   * leaves them in the backlog; dead events in three groups, one with markup in its error; and two
   * events to shipments that the relay publishes, so the meters have a destination.
   */
  private void seed() throws Exception {
    pending("orders", 3, "2 hours");
    pending("payments", 2, "5 minutes");
    dead("orders", "OrderPlaced", "Broker said: TIMEOUT", 2, "30 minutes");
    dead("orders", "OrderCancelled", "<b id=\"injected\">record</b> too large", 1, "20 minutes");
    dead("payments", "PaymentTaken", "Broker said: TIMEOUT", 4, "10 minutes");
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + schema
                + ".outbox_event (id, destination, event_key, event_type, payload) SELECT"
                + " gen_random_uuid(), 'shipments', 'ship-' || i, 'ShipmentSent', '{}' FROM"
                + " generate_series(1, 2) AS i");
    assertThat(context.getBean(OutboxRelayControl.class).drain(Duration.ofSeconds(60))).isTrue();
    assertThat(context.getBean(RecordingTransport.class).sent())
        .extracting(e -> e.destination())
        .containsExactly("shipments", "shipments");
  }

  private void pending(String destination, int count, String age) {
    insert(destination, "Pending" + destination, count, "PENDING", 1, null, age, "1 hour");
  }

  private void dead(String destination, String type, String error, int count, String age) {
    insert(destination, type, count, "DEAD", 5, error, age, "0 seconds");
  }

  private void insert(
      String destination,
      String type,
      int count,
      String status,
      int attempts,
      String error,
      String age,
      String retryIn) {
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + schema
                + ".outbox_event (id, destination, event_key, event_type, payload, status,"
                + " attempts, last_error, created_at, last_attempt_at, available_at) SELECT"
                + " gen_random_uuid(), '"
                + destination
                + "', 'k-' || gen_random_uuid(), '"
                + type
                + "', '{}', '"
                + status
                + "', "
                + attempts
                + ", "
                + (error == null ? "NULL" : "'" + error.replace("'", "''") + "'")
                + ", now() - interval '"
                + age
                + "' - i * interval '1 second', now() - interval '"
                + age
                + "' + i * interval '1 second', now() + interval '"
                + retryIn
                + "' FROM generate_series(1, "
                + count
                + ") AS i");
  }

  private long count(String status) {
    return TestPostgres.get()
        .queryLong(
            "SELECT count(*) FROM " + schema + ".outbox_event WHERE status = '" + status + "'");
  }

  private HttpResponse<String> send(String method, String path, String json) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
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
  void endpointReportsBacklogPerDestinationDeadGroupsAndThatItIsReadOnly() throws Exception {
    start(READ_ONLY);
    seed();

    String json = send("GET", "/actuator/outbox", null).body();

    assertThat(JsonPath.<Boolean>read(json, "$.writable")).isFalse();
    assertThat(JsonPath.<Boolean>read(json, "$.backlog.complete")).isTrue();
    assertThat(JsonPath.<List<String>>read(json, "$.backlog.destinations[*].destination"))
        .containsExactly("orders", "payments");
    assertThat(JsonPath.<List<Integer>>read(json, "$.backlog.destinations[*].pending"))
        .containsExactly(3, 2);
    Instant oldestOrder =
        Instant.parse(JsonPath.<String>read(json, "$.backlog.destinations[0].oldestPending"));
    assertThat(oldestOrder).isBefore(Instant.now().minus(Duration.ofHours(2)));
    assertThat(JsonPath.<Boolean>read(json, "$.deadGroups.complete")).isTrue();
    assertThat(
            JsonPath.<List<Map<String, Object>>>read(json, "$.deadGroups.groups").stream()
                .map(g -> g.get("destination") + "/" + g.get("type") + "/" + g.get("count"))
                .toList())
        .containsExactly(
            "payments/PaymentTaken/4", "orders/OrderPlaced/2", "orders/OrderCancelled/1");
  }

  @Test
  void endpointIsWritableOnlyWithUnrestrictedAccessWithinTheMaximumPermitted() throws Exception {
    start(UNRESTRICTED, "management.endpoints.access.max-permitted=read-only");
    assertThat(JsonPath.<Boolean>read(send("GET", "/actuator/outbox", null).body(), "$.writable"))
        .isFalse();
    context.close();

    start(UNRESTRICTED);
    assertThat(JsonPath.<Boolean>read(send("GET", "/actuator/outbox", null).body(), "$.writable"))
        .isTrue();
  }

  @Test
  void pageShowsBacklogPerDestinationGroupedDeadLettersAndMetersWithoutWriteButtonsWhenReadOnly()
      throws Exception {
    start(READ_ONLY);
    seed();

    Document page = Jsoup.parse(chromium.dumpDom(base + "/actuator/outbox/ui"));

    assertThat(page.body().attr("data-refreshes"))
        .as("the page polled more than once")
        .matches("[2-9]|[1-9][0-9]+");
    assertThat(page.getElementById("relay").text()).isEqualTo("relay running");
    assertThat(page.getElementById("pending").text()).isEqualTo("5");
    assertThat(page.getElementById("dead").text()).isEqualTo("7");
    List<List<String>> backlog = rows(page, "backlog");
    assertThat(backlog)
        .extracting(row -> row.subList(0, 2))
        .containsExactly(List.of("orders", "3"), List.of("payments", "2"));
    assertThat(backlog.get(0).get(2))
        .as("oldest orders event, written 2 h ago")
        .matches("2 h \\d+ min");
    assertThat(backlog.get(1).get(2))
        .as("oldest payments event, written 5 min ago")
        .matches("5 min \\d+ s");
    assertThat(rows(page, "dead-groups"))
        .extracting(row -> row.subList(0, 4))
        .containsExactly(
            List.of("payments", "PaymentTaken", "Broker said: TIMEOUT", "4"),
            List.of("orders", "OrderPlaced", "Broker said: TIMEOUT", "2"),
            List.of("orders", "OrderCancelled", "<b id=\"injected\">record</b> too large", "1"));
    assertThat(page.getElementById("injected"))
        .as("event data is shown as text, never parsed as markup")
        .isNull();
    assertThat(page.select("#dead-groups button")).isEmpty();
    assertThat(page.getElementById("access-note").text())
        .isEqualTo(
            "Read-only: replay and discard need management.endpoint.outbox.access=unrestricted.");
    assertThat(page.select("#legend > span").eachText())
        .as("the meters of the destination the relay published to")
        .singleElement()
        .asString()
        .startsWith("shipments: 2 published since start");
    assertThat(page.select("#rate-chart polyline[data-destination=shipments]")).hasSize(1);
  }

  @Test
  void pageOffersReplayAndDiscardPerGroupWhenWritesAreEnabledAndTheirRequestsWork()
      throws Exception {
    start(UNRESTRICTED);
    seed();

    Document page = Jsoup.parse(chromium.dumpDom(base + "/actuator/outbox/ui"));

    assertThat(page.getElementById("access-note").text()).doesNotContain("Read-only");
    assertThat(page.select("#dead-groups > tbody > tr"))
        .hasSize(3)
        .allSatisfy(
            row ->
                assertThat(row.select("td.actions button").eachText())
                    .containsExactly("Replay", "Discard"));

    // The requests the buttons send: the group's destination, type and error, and its dead-time
    // range (filterOf in the page).
    String json = send("GET", "/actuator/outbox", null).body();
    Map<String, String> payments = filterOf(JsonPath.read(json, "$.deadGroups.groups[0]"));
    Map<String, String> cancelled = filterOf(JsonPath.read(json, "$.deadGroups.groups[2]"));

    HttpResponse<String> replay =
        send("POST", "/actuator/outbox", new ObjectMapper().writeValueAsString(payments));
    assertThat(replay.statusCode()).isEqualTo(200);
    assertThat(JsonPath.<Integer>read(replay.body(), "$.replayed")).isEqualTo(4);

    String query =
        cancelled.entrySet().stream()
            .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    HttpResponse<String> discard = send("DELETE", "/actuator/outbox?" + query, null);
    assertThat(discard.statusCode()).isEqualTo(200);
    assertThat(JsonPath.<Integer>read(discard.body(), "$.discarded")).isEqualTo(1);

    // Only the orders/OrderPlaced group is left dead.
    assertThat(count("DEAD")).isEqualTo(2);
    String after = send("GET", "/actuator/outbox", null).body();
    assertThat(JsonPath.<List<String>>read(after, "$.deadGroups.groups[*].type"))
        .containsExactly("OrderPlaced");
  }

  @Test
  void screenshotIsAFullSizeImageWithContent(@TempDir Path directory) throws Exception {
    start(UNRESTRICTED);
    seed();

    Path png =
        chromium.screenshot(
            base + "/actuator/outbox/ui", directory.resolve("outbox-ui.png"), 1280, 900);

    byte[] bytes = Files.readAllBytes(png);
    assertThat(bytes).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(1280);
    assertThat(image.getHeight()).isEqualTo(900);
    Map<Integer, Integer> colours = new HashMap<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        colours.merge(image.getRGB(x, y) & 0xffffff, 1, Integer::sum);
      }
    }
    int pixels = (image.getWidth() / 2) * (image.getHeight() / 2);
    int mostCommon = colours.values().stream().max(Integer::compare).orElseThrow();
    assertThat(colours.size()).as("distinct colours").isGreaterThan(50);
    assertThat(mostCommon).as("pixels of the most common colour").isLessThan(pixels * 9 / 10);
    // The dark header band across the top, as the page's style draws it.
    assertThat(image.getRGB(640, 5) & 0xffffff).isEqualTo(0x111827);
    String keep = System.getProperty("outbox.page.screenshot");
    if (keep != null) {
      Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void pageSaysSoWhenTheMetricsEndpointIsNotExposed() throws Exception {
    start(READ_ONLY, "management.endpoints.web.exposure.include=outbox");

    Document page = Jsoup.parse(chromium.dumpDom(base + "/actuator/outbox/ui"));

    assertThat(page.getElementById("metrics-note").text())
        .isEqualTo(
            "The metrics endpoint is not exposed here: add \"metrics\" to"
                + " management.endpoints.web.exposure.include to see publish rate and latency.");
    assertThat(rows(page, "backlog")).containsExactly(List.of("Nothing waiting."));
    assertThat(rows(page, "dead-groups")).containsExactly(List.of("No dead events."));
  }

  @Test
  void pageIsServedAsHtmlUnderTheEndpointOnlyWhenTheEndpointIsExposed() throws Exception {
    start(READ_ONLY);
    HttpResponse<String> page = send("GET", "/actuator/outbox/ui", null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
    assertThat(page.body())
        .startsWith("<!DOCTYPE html>")
        .as("self-contained: loads nothing from elsewhere")
        .doesNotContainPattern("(?i:src|href)\\s*=|@import|url\\(");
    assertThat(send("GET", "/actuator/outbox/other", null).statusCode()).isEqualTo(404);
    context.close();

    start(READ_ONLY, "management.endpoints.web.exposure.include=health");
    assertThat(send("GET", "/actuator/outbox/ui", null).statusCode()).isEqualTo(404);
    context.close();

    start("management.endpoint.outbox.access=none");
    assertThat(send("GET", "/actuator/outbox/ui", null).statusCode()).isEqualTo(404);
  }

  /** What the page's buttons send for a dead group: see filterOf in outbox-ui.html. */
  private static Map<String, String> filterOf(Map<String, Object> group) {
    Map<String, String> filter = new LinkedHashMap<>();
    filter.put("destination", (String) group.get("destination"));
    filter.put("type", (String) group.get("type"));
    Instant first = Instant.parse((String) group.get("firstDeadAt"));
    Instant last = Instant.parse((String) group.get("lastDeadAt"));
    filter.put("deadFrom", Instant.ofEpochMilli(first.toEpochMilli()).toString());
    filter.put("deadTo", Instant.ofEpochMilli(last.toEpochMilli() + 1).toString());
    String error = (String) group.get("error");
    if (!error.isEmpty()) {
      filter.put("error", error);
    }
    return filter;
  }

  /** The text of each cell of each body row of the table with this id. */
  private static List<List<String>> rows(Document document, String tableId) {
    return document.select("table#" + tableId + " > tbody > tr").stream()
        .map(row -> row.select("> td").stream().map(td -> td.text()).toList())
        .toList();
  }
}
