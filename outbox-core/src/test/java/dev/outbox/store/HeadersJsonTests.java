package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadersJsonTests {

  @Test
  void roundTripsEscapesAndControlCharacters() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("traceparent", "00-abc-def-01");
    headers.put("quote\"key", "back\\slash\nnew\tline\u0001é");
    assertThat(HeadersJson.decode(HeadersJson.encode(headers))).isEqualTo(headers);
  }

  @Test
  void decodesWhatPostgresPrintsForJsonb() {
    assertThat(HeadersJson.decode("{}")).isEmpty();
    assertThat(HeadersJson.decode("{\"a\": \"1\", \"b\": \"x\\u0041\"}"))
        .containsEntry("a", "1")
        .containsEntry("b", "xA");
  }

  @Test
  void anythingButAnObjectOfStringsIsRejectedNamingTheProblemNeverWithAnIndexError() {
    Map<String, String> problems = new LinkedHashMap<>();
    problems.put("[\"a\"]", "expected a JSON object of strings at offset 0");
    problems.put("null", "expected a JSON object of strings at offset 0");
    problems.put("\"x\"", "expected a JSON object of strings at offset 0");
    problems.put("", "expected a JSON object of strings at offset 0");
    problems.put("{\"n\": 1}", "expected a string value for header 'n' at offset 6");
    problems.put("{\"a\": \"b\"", "unexpected end");
    problems.put("{\"a\": \"b", "unexpected end");
    problems.put("{\"a\": \"\\u12", "unexpected end");
    problems.put("{\"a\": \"\\u12zz\"}", "invalid escape \\u12zz");
    problems.put("{\"a\": \"b\" \"c\"}", "expected ',' or '}' at offset 10");
    problems.put("{\"a\": \"b\"} x", "unexpected text after the object at offset 11");
    problems.put("{1: \"b\"}", "expected a header name at offset 1");
    problems.forEach(
        (json, problem) ->
            assertThatThrownBy(() -> HeadersJson.decode(json))
                .as(json)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("headers is not a JSON object of strings: ")
                .hasMessageContaining(problem));
  }
}
