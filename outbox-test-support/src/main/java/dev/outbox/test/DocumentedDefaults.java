package dev.outbox.test;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.convert.DurationStyle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Compares a module's configuration metadata (what the code defaults to, as Spring Boot's
 * annotation processor read it) with {@code docs/configuration.md}: every {@code outbox.*} property
 * of the module is documented, and where the metadata knows a default, the documented default (the
 * first {@code `literal`} of the row's default column) is the same value. Run from a module's
 * directory, after compilation.
 */
public final class DocumentedDefaults {

  private static final Path DOCS = Path.of("..", "docs", "configuration.md");
  private static final Path METADATA =
      Path.of("target", "classes", "META-INF", "spring-configuration-metadata.json");
  private static final Pattern ROW =
      Pattern.compile("^\\| `([a-z0-9.-]+)` \\| ([^|]*) \\|", Pattern.MULTILINE);
  private static final Pattern LITERAL = Pattern.compile("^`([^`]+)`");

  private DocumentedDefaults() {}

  /**
   * The mismatches, one line each (empty when the docs agree with the code), and how many
   * properties were compared.
   */
  public static Result check() throws IOException {
    Map<String, String> documented = new LinkedHashMap<>();
    Matcher row = ROW.matcher(Files.readString(DOCS));
    while (row.find()) {
      documented.put(row.group(1), row.group(2).trim());
    }
    JsonNode metadata = JsonMapper.builder().build().readTree(METADATA.toFile());
    List<String> problems = new ArrayList<>();
    int compared = 0;
    for (JsonNode property : metadata.path("properties")) {
      String name = property.path("name").asString();
      if (!name.startsWith("outbox.")) {
        continue;
      }
      String cell = documented.get(name);
      if (cell == null) {
        problems.add(name + " is not documented in docs/configuration.md");
        continue;
      }
      JsonNode code = property.path("defaultValue");
      if (code.isMissingNode() || code.isNull()) {
        continue;
      }
      Matcher literal = LITERAL.matcher(cell);
      if (!literal.find()) {
        problems.add(name + ": the code's default is " + code + ", the docs say " + cell);
        continue;
      }
      compared++;
      if (!same(code, literal.group(1))) {
        problems.add(
            name + ": the code's default is " + code + ", the docs say `" + literal.group(1) + "`");
      }
    }
    return new Result(List.copyOf(problems), compared);
  }

  private static boolean same(JsonNode code, String docs) {
    if (code.isBoolean()) {
      return docs.equals(Boolean.toString(code.asBoolean()));
    }
    if (code.isNumber()) {
      Duration documented = duration(docs);
      if (documented != null && !docs.matches("-?[0-9.]+")) {
        // A Duration default the metadata gives as a bare number is in milliseconds.
        return code.canConvertToLong() && documented.equals(Duration.ofMillis(code.asLong()));
      }
      try {
        return new BigDecimal(docs).compareTo(code.decimalValue()) == 0;
      } catch (NumberFormatException ex) {
        return false;
      }
    }
    String text = code.asString();
    Duration codeDuration = duration(text);
    Duration docsDuration = duration(docs);
    if (codeDuration != null && docsDuration != null) {
      return codeDuration.equals(docsDuration);
    }
    return normalized(text).equals(normalized(docs));
  }

  private static Duration duration(String value) {
    try {
      return DurationStyle.detectAndParse(value);
    } catch (IllegalArgumentException ex) {
      return null;
    }
  }

  private static String normalized(String value) {
    return value.toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** What {@link #check()} found. */
  public record Result(List<String> problems, int compared) {}
}
