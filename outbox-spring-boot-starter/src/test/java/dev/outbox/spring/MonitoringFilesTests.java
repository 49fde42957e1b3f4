package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Prometheus alert rules and the Grafana dashboard shipped in {@code docs/monitoring/}: both
 * load, name only documented meters, and the rules pass {@code promtool check rules} and their unit
 * tests ({@code promtool test rules}), which say when each alert fires. {@code promtool} must be on
 * the PATH ({@code .ci/run} installs it), as Chromium must be for the operator page tests.
 */
class MonitoringFilesTests {

  private static final Path MONITORING = DocumentedMeters.DOCS.resolve("monitoring");
  private static final Path RULES = MONITORING.resolve("outbox-alerts.yml");
  private static final Path RULE_TESTS = MONITORING.resolve("outbox-alerts.test.yml");
  private static final Path DASHBOARD = MONITORING.resolve("outbox-dashboard.json");

  @Test
  @SuppressWarnings("unchecked")
  void alertRulesAreCompleteAndNameOnlyDocumentedMeters() throws IOException {
    Set<String> documented = DocumentedMeters.read().series();
    Map<String, Object> file = new Yaml().load(Files.readString(RULES));
    List<Map<String, Object>> groups = (List<Map<String, Object>>) file.get("groups");
    List<String> alerts = new ArrayList<>();
    for (Map<String, Object> group : groups) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        String alert = (String) rule.get("alert");
        alerts.add(alert);
        assertThat(rule).as(alert).containsKeys("expr", "for", "labels", "annotations");
        assertThat(((Map<String, String>) rule.get("labels")).get("severity"))
            .as(alert)
            .isIn("warning", "critical");
        assertThat((Map<String, String>) rule.get("annotations"))
            .as(alert)
            .containsKeys("summary", "description");
        Set<String> series = DocumentedMeters.seriesIn((String) rule.get("expr"));
        assertThat(series).as(alert + " names outbox meters").isNotEmpty();
        assertThat(documented).as(alert + " names only documented meters").containsAll(series);
      }
    }
    assertThat(alerts)
        .containsExactlyInAnyOrder(
            "OutboxBacklogStale", "OutboxDeadLetters", "OutboxRelayFailing", "OutboxRelayDown");
    String ruleTests = Files.readString(RULE_TESTS);
    for (String alert : alerts) {
      assertThat(ruleTests).as("a promtool unit test for " + alert).contains("alertname: " + alert);
    }
  }

  @Test
  void alertRulesPassPromtoolAndTheirUnitTests() throws Exception {
    String promtool = promtool();
    assertThat(promtool)
        .as(
            "promtool is needed to check the alert rules and was not found on the PATH: install"
                + " the promtool binary of Debian's prometheus package (.ci/run does)")
        .isNotNull();
    assertThat(run(promtool, "check", "rules", RULES.getFileName().toString()))
        .contains("SUCCESS: 4 rules found");
    assertThat(run(promtool, "test", "rules", RULE_TESTS.getFileName().toString()))
        .contains("SUCCESS");
  }

  @Test
  void dashboardLoadsAndChartsEveryDocumentedMeterByItsPrometheusName() throws IOException {
    DocumentedMeters documented = DocumentedMeters.read();
    JsonNode dashboard = JsonMapper.builder().build().readTree(DASHBOARD.toFile());
    assertThat(dashboard.path("uid").asString()).isEqualTo("outbox-relay");
    assertThat(dashboard.path("title").asString()).isNotBlank();
    assertThat(dashboard.path("schemaVersion").asInt()).isPositive();
    Set<Integer> ids = new HashSet<>();
    Set<String> charted = new TreeSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      assertThat(ids.add(panel.path("id").asInt())).as("panel ids are unique").isTrue();
      assertThat(panel.path("title").asString()).isNotBlank();
      assertThat(panel.path("gridPos").has("w")).isTrue();
      assertThat(panel.path("targets").isEmpty()).as(panel.path("title").asString()).isFalse();
      for (JsonNode target : panel.path("targets")) {
        Set<String> series = DocumentedMeters.seriesIn(target.path("expr").asString());
        assertThat(documented.series())
            .as(panel.path("title").asString() + " names only documented meters")
            .containsAll(series);
        charted.addAll(series);
      }
    }
    for (DocumentedMeters.Meter meter : documented.meters()) {
      assertThat(meter.series())
          .as("the dashboard charts " + meter.name())
          .anyMatch(charted::contains);
    }
  }

  /**
   * The gauges read the table, which every instance of a service shares, so each instance reports
   * the same figures: the rules and the dashboard take them once per service ({@code max by
   * (job)}), never per instance (one alert per pod, reset by every restart) nor summed over
   * instances (n times the backlog).
   */
  @Test
  @SuppressWarnings("unchecked")
  void tableWideGaugesAreTakenOncePerServiceNeitherPerInstanceNorSummed() throws IOException {
    List<String> gauges =
        DocumentedMeters.read().meters().stream()
            .filter(meter -> meter.type().equals("gauge"))
            .map(DocumentedMeters.Meter::prometheus)
            .toList();
    assertThat(gauges)
        .containsExactlyInAnyOrder(
            "outbox_events_pending",
            "outbox_events_oldest_age_seconds",
            "outbox_events_dead_stored");
    Map<String, String> expressions = new LinkedHashMap<>();
    Map<String, Object> file = new Yaml().load(Files.readString(RULES));
    for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        expressions.put("rule " + rule.get("alert"), (String) rule.get("expr"));
      }
    }
    JsonNode dashboard = JsonMapper.builder().build().readTree(DASHBOARD.toFile());
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        expressions.put(
            "panel " + panel.path("title").asString() + " " + target.path("refId").asString(),
            target.path("expr").asString());
      }
    }
    int uses = 0;
    for (Map.Entry<String, String> expression : expressions.entrySet()) {
      for (String gauge : gauges) {
        Matcher use = Pattern.compile("\\b" + gauge + "\\b").matcher(expression.getValue());
        while (use.find()) {
          uses++;
          assertThat(expression.getValue().substring(0, use.start()))
              .as(expression.getKey() + " takes " + gauge + " once per service")
              .endsWith("max by (job) (");
        }
      }
    }
    assertThat(uses).as("the rules and the dashboard use the gauges").isGreaterThanOrEqualTo(5);
  }

  private static String promtool() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File candidate = new File(dir, "promtool");
      if (candidate.canExecute()) {
        return candidate.getPath();
      }
    }
    return null;
  }

  private static String run(String... command) throws Exception {
    Process process =
        new ProcessBuilder(command)
            .directory(MONITORING.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("promtool ended").isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ":\n" + output).isZero();
    return output;
  }
}
