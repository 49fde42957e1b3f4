package dev.outbox.testing;

import dev.outbox.OutboxEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import org.assertj.core.api.AbstractAssert;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Assertions on the events of one type that match every condition given so far. Each condition
 * narrows the candidates; when none is left, the assertion fails with what was expected and, for
 * each event, the first condition it did not meet.
 */
public class PublishedEventAssert extends AbstractAssert<PublishedEventAssert, OutboxEvents> {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final OutboxEventsAssert parent;
  private final OutboxEvents all;
  private final List<Condition> conditions = new ArrayList<>();

  PublishedEventAssert(OutboxEventsAssert parent, OutboxEvents all, String type) {
    super(all, PublishedEventAssert.class);
    this.parent = parent;
    this.all = all;
    add(
        new Condition(
            type, event -> event.type().equals(type), event -> "type was " + event.type()));
  }

  /** Narrows to events sent to {@code destination} (topic or exchange). */
  public PublishedEventAssert to(String destination) {
    Objects.requireNonNull(destination, "destination");
    return add(
        new Condition(
            "to \"" + destination + "\"",
            event -> event.destination().equals(destination),
            event -> "destination was \"" + event.destination() + "\""));
  }

  /** Narrows to events with {@code key}; {@code null} for events without a key. */
  public PublishedEventAssert withKey(@Nullable String key) {
    return add(
        new Condition(
            "with key " + quoted(key),
            event -> Objects.equals(event.key(), key),
            event -> "key was " + quoted(event.key())));
  }

  /** Narrows to events with {@code aggregateType}. */
  public PublishedEventAssert withAggregateType(@Nullable String aggregateType) {
    return add(
        new Condition(
            "with aggregate type " + quoted(aggregateType),
            event -> Objects.equals(event.aggregateType(), aggregateType),
            event -> "aggregate type was " + quoted(event.aggregateType())));
  }

  /** Narrows to events of type version {@code version}. */
  public PublishedEventAssert withVersion(int version) {
    return add(
        new Condition(
            "version " + version,
            event -> event.version() == version,
            event -> "version was " + event.version()));
  }

  /**
   * Narrows to events whose payload is the JSON document {@code json}: compared as JSON, so
   * whitespace and the order of fields do not matter.
   *
   * @throws IllegalArgumentException if {@code json} is not JSON
   */
  public PublishedEventAssert withPayload(String json) {
    JsonNode expected = parse(json, "the expected payload");
    return add(
        new Condition(
            "with payload " + expected,
            event -> expected.equals(tree(event)),
            event -> "payload was " + event.payload()));
  }

  /**
   * Narrows to events whose payload has {@code expected} at the JSON Pointer {@code pointer}, e.g.
   * {@code withPayloadAt("/lines/0/sku", "A-1")}. {@code expected} is compared as JSON: a number, a
   * string, a boolean, {@code null}, or an object or list that converts to the same JSON.
   */
  public PublishedEventAssert withPayloadAt(String pointer, @Nullable Object expected) {
    Objects.requireNonNull(pointer, "pointer");
    if (!pointer.isEmpty() && !pointer.startsWith("/")) {
      throw new IllegalArgumentException(
          "A JSON Pointer starts with '/', e.g. \"/orderId\"; was \"" + pointer + "\"");
    }
    JsonNode value = JSON.valueToTree(expected);
    return add(
        new Condition(
            "with payload " + pointer + " = " + value,
            event -> sameJson(value, at(event, pointer)),
            event -> {
              JsonNode found = at(event, pointer);
              return "payload "
                  + pointer
                  + (found.isMissingNode() ? " was missing" : " was " + found);
            }));
  }

  /** Narrows to events with the header {@code name} set to {@code value}. */
  public PublishedEventAssert withHeader(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return add(
        new Condition(
            "with header " + name + "=" + quoted(value),
            event -> value.equals(event.headers().get(name)),
            event -> "header " + name + " was " + quoted(event.headers().get(name))));
  }

  /** Narrows to events that match {@code predicate}, described in failure messages. */
  public PublishedEventAssert matching(
      String description, Predicate<? super OutboxEvent> predicate) {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(predicate, "predicate");
    return add(new Condition(description, predicate::test, event -> "did not match"));
  }

  /** Asserts that exactly one event matches. */
  public PublishedEventAssert once() {
    return times(1);
  }

  /** Asserts that exactly {@code count} events match. */
  public PublishedEventAssert times(int count) {
    OutboxEvents matches = matches();
    if (matches.size() != count) {
      failWithMessage(
          "Expected %s %s, but %d matched:%s",
          describeExpected(),
          count == 1 ? "exactly once" : "exactly " + count + " times",
          matches.size(),
          matches.toString());
    }
    return this;
  }

  /** The first matching event, for assertions of your own. */
  public OutboxEvent event() {
    return matches().list().get(0);
  }

  /** The payload of the first matching event, read as {@code type} with a default JSON mapper. */
  public <T> T payload(Class<T> type) {
    OutboxEvent event = event();
    try {
      return JSON.readValue(event.payload(), type);
    } catch (JacksonException e) {
      throw new AssertionError(
          "The payload of " + OutboxEvents.describe(event) + " is not a " + type.getName(), e);
    }
  }

  /** Back to the assertions on all events. */
  public OutboxEventsAssert and() {
    return parent;
  }

  private PublishedEventAssert add(Condition condition) {
    conditions.add(condition);
    if (matches().isEmpty()) {
      failWithMessage(noMatch());
    }
    return this;
  }

  private OutboxEvents matches() {
    return all.filter(event -> conditions.stream().allMatch(c -> c.test().test(event)));
  }

  private String describeExpected() {
    StringBuilder out = new StringBuilder("an event");
    for (Condition condition : conditions) {
      out.append(' ').append(condition.description());
    }
    return out.toString();
  }

  private String noMatch() {
    StringBuilder out =
        new StringBuilder("Expected ")
            .append(describeExpected())
            .append(", but ")
            .append(all.isEmpty() ? "there were no events" : "none of these matched:");
    for (OutboxEvent event : all) {
      out.append("\n  ").append(OutboxEvents.describe(event));
      for (Condition condition : conditions) {
        if (!condition.test().test(event)) {
          out.append("\n      (").append(condition.mismatch().apply(event)).append(')');
          break;
        }
      }
    }
    // AssertJ formats the message: escape what it would read as a format specifier.
    return out.toString().replace("%", "%%");
  }

  private static JsonNode parse(String json, String what) {
    try {
      return JSON.readTree(json);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(what + " is not JSON: " + json, e);
    }
  }

  private static @Nullable JsonNode tree(OutboxEvent event) {
    try {
      return JSON.readTree(event.payload());
    } catch (JacksonException e) {
      return null;
    }
  }

  private static JsonNode at(OutboxEvent event, String pointer) {
    JsonNode tree = tree(event);
    return tree == null ? JSON.missingNode() : tree.at(pointer);
  }

  /** Numbers compare by value, so 2, 2L and 2.0 all match a payload's 2. */
  private static boolean sameJson(JsonNode expected, JsonNode found) {
    if (expected.isNumber() && found.isNumber()) {
      return expected.decimalValue().compareTo(found.decimalValue()) == 0;
    }
    return expected.equals(found);
  }

  private static String quoted(@Nullable String value) {
    return value == null ? "null" : "\"" + value + "\"";
  }

  private record Condition(
      String description, Predicate<OutboxEvent> test, Function<OutboxEvent, String> mismatch) {}
}
